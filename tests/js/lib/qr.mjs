// Reads a QR code off the screen, as a camera would: a PNG screenshot of an element decoded by
// npm `jsqr` (an independent ISO/IEC 18004 decoder; the server encodes with Rust `qrcodegen`)
// after npm `pngjs` turns the PNG into RGBA pixels. Nothing here looks at the page's markup.

import jsQR from 'jsqr';
import { PNG } from 'pngjs';

/// Screenshots `element` (a Playwright Locator) to `path` and decodes the QR code in it.
/// Returns what a test judges: the decoded text (null when nothing decodes), the symbol
/// version, the module size in screenshot pixels and the quiet zone in modules (the light
/// margin between the code and the edge of `qrElement`, the code's own box inside `element`).
export async function readQr(element, path, qrElement) {
  await element.scrollIntoViewIfNeeded();
  const box = await element.boundingBox();
  const qrBox = qrElement ? await qrElement.boundingBox() : null;
  const shot = await element.screenshot({ path });
  const png = PNG.sync.read(shot);
  // Only the camera's view: no retry with inverted colours (a printed card is dark on light).
  const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height, {
    inversionAttempts: 'dontInvert',
  });
  if (!code) return { text: null, width: png.width, height: png.height };
  const modules = 17 + 4 * code.version;
  const loc = code.location;
  const side = Math.hypot(loc.topRightCorner.x - loc.topLeftCorner.x, loc.topRightCorner.y - loc.topLeftCorner.y);
  const modulePx = side / modules;
  let quietZone = null;
  if (qrBox && box) {
    // The code's corners relative to its box (both in CSS pixels; the screenshot is at scale 1).
    const left = loc.topLeftCorner.x - (qrBox.x - box.x);
    const top = loc.topLeftCorner.y - (qrBox.y - box.y);
    const right = qrBox.x - box.x + qrBox.width - loc.bottomRightCorner.x;
    const bottom = qrBox.y - box.y + qrBox.height - loc.bottomRightCorner.y;
    quietZone = Math.min(left, top, right, bottom) / modulePx;
  }
  return {
    text: code.data,
    version: code.version,
    modules,
    modulePx: Math.round(modulePx * 100) / 100,
    quietZone: quietZone === null ? null : Math.round(quietZone * 100) / 100,
    width: png.width,
    height: png.height,
  };
}
