//! Building our IdP metadata (SAML Metadata 2.3.2, 2.4.3 IDPSSODescriptor), served at
//! `/t/{tenant}/saml/metadata`.

use crate::error::Result;
use crate::keys::Certificate;
use crate::ns::{self, Binding, NameIdFormat};
use crate::xml::write::Element;
use time::OffsetDateTime;

/// What our metadata says.
#[derive(Debug, Clone)]
pub struct IdpMetadata {
    /// Our entity id (usually the metadata URL).
    pub entity_id: String,
    /// The SSO endpoint URL; published for both HTTP-Redirect and HTTP-POST.
    pub sso_url: String,
    /// The Single Logout endpoint URL, if logout is offered (both bindings).
    pub slo_url: Option<String>,
    /// Signing certificates: the current one, plus the next one before a rotation.
    pub signing_certificates: Vec<Certificate>,
    /// `WantAuthnRequestsSigned`.
    pub want_authn_requests_signed: bool,
    /// `validUntil`, if the metadata should expire.
    pub valid_until: Option<OffsetDateTime>,
}

/// The NameID formats Kakehashi issues (Metadata 2.4.1 NameIDFormat): `persistent` (pairwise
/// per SP) and `unspecified` (the username). E-mail addresses are released as the `mail`
/// attribute, not as a NameID: a roster's e-mail column is often empty or shared.
pub const NAME_ID_FORMATS: [NameIdFormat; 2] =
    [NameIdFormat::Persistent, NameIdFormat::Unspecified];

impl IdpMetadata {
    /// The `md:EntityDescriptor` XML (unsigned).
    pub fn to_xml(&self) -> Result<String> {
        let mut keys = Vec::new();
        for cert in &self.signing_certificates {
            keys.push(
                Element::new("md:KeyDescriptor")
                    .attr("use", "signing")
                    .child(
                        Element::new("ds:KeyInfo").child(
                            Element::new("ds:X509Data").child(
                                Element::new("ds:X509Certificate").text(cert.to_base64_der()?),
                            ),
                        ),
                    ),
            );
        }
        let bindings = [Binding::HttpRedirect, Binding::HttpPost];
        let service = |name: &str, url: &str| {
            bindings.map(|b| {
                Element::new(name)
                    .attr("Binding", b.uri())
                    .attr("Location", url)
            })
        };
        // Metadata 2.4.2/2.4.3 schema order: KeyDescriptor, SingleLogoutService,
        // NameIDFormat, SingleSignOnService.
        let descriptor = Element::new("md:IDPSSODescriptor")
            .attr(
                "WantAuthnRequestsSigned",
                self.want_authn_requests_signed.to_string(),
            )
            .attr("protocolSupportEnumeration", ns::PROTOCOL)
            .children(keys)
            .children(
                self.slo_url
                    .iter()
                    .flat_map(|u| service("md:SingleLogoutService", u)),
            )
            .children(
                NAME_ID_FORMATS
                    .iter()
                    .map(|f| Element::new("md:NameIDFormat").text(f.uri())),
            )
            .children(service("md:SingleSignOnService", &self.sso_url));
        Ok(Element::new("md:EntityDescriptor")
            .attr("xmlns:md", ns::METADATA)
            .attr("xmlns:ds", ns::DSIG)
            .attr("entityID", self.entity_id.as_str())
            .attr_opt(
                "validUntil",
                self.valid_until.map(crate::ids::format_instant),
            )
            .child(descriptor)
            .render())
    }
}
