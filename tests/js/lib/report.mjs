// The line protocol between these scripts and the Rust tests that run them
// (crates/kakehashi/tests/js_support/): every observation is one JSON object on one line of
// stdout, `{"check": NAME, ...}`; the last line is `{"done": true}`. Anything that goes wrong
// inside a script is `{"error": MESSAGE, "stack": ...}` and a non-zero exit. The scripts observe
// and report; the Rust tests judge.

export function report(check, fields = {}) {
  process.stdout.write(JSON.stringify({ check, ...fields }) + '\n');
}

/// Runs `main`, then reports `done` or the error, and exits with a status saying which.
export async function run(main) {
  try {
    await main();
    process.stdout.write(JSON.stringify({ done: true }) + '\n');
    process.exitCode = 0;
  } catch (e) {
    process.stdout.write(
      JSON.stringify({ error: String(e && e.message ? e.message : e), stack: e && e.stack }) + '\n',
    );
    process.exitCode = 1;
  }
}
