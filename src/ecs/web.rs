//! Requested URLs (`URL` of HTTP proxy requests, `url` of HTTP tokens) split
//! into the ECS `url.*` fields.
//!
//! The `url` crate normalises what it parses, so `url.full` is its
//! serialisation while `url.original` stays the raw text. A URL may carry
//! credentials (`http://user:secret@host/`); the password never reaches the
//! output.

use url::Url;

/// A parsed absolute URL with a host, ready to be mapped.
pub struct Link {
    url: Url,
    /// Whether the raw text held a password that had to be taken out.
    redacted: bool,
}

impl Link {
    /// Parses `raw`; relative references, authority-only forms (a CONNECT
    /// target such as `host:443`) and URLs without a host give `None`.
    pub fn parse(raw: &str) -> Option<Link> {
        // TODO: Map CONNECT targets (`host:port`, no scheme) to url.domain and
        // url.port once a proxy fixture shows the exact shape Canary logs.
        let mut url = Url::parse(raw.trim()).ok()?;
        if !url.has_host() {
            return None;
        }
        // TODO: Redact credential-looking query parameters (`password=`) too;
        // today only the user-info password is taken out.
        let redacted = url.password().is_some();
        if redacted {
            // Only fails for URLs that cannot hold credentials at all.
            url.set_password(None).ok()?;
        }
        Some(Link { url, redacted })
    }

    /// The text for `url.original`: the raw text, unless it held a password.
    pub fn original<'a>(&'a self, raw: &'a str) -> &'a str {
        if self.redacted { self.url.as_str() } else { raw }
    }

    pub fn full(&self) -> &str {
        self.url.as_str()
    }

    pub fn scheme(&self) -> &str {
        self.url.scheme()
    }

    /// The host as written in the URL; an IPv6 literal keeps its brackets, as
    /// ECS asks.
    pub fn domain(&self) -> Option<&str> {
        self.url.host_str().filter(|h| !h.is_empty())
    }

    /// Whether the host is a name rather than an IP literal.
    pub fn has_domain_name(&self) -> bool {
        self.url.domain().is_some()
    }

    /// The explicit port, else the scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.url.port_or_known_default()
    }

    pub fn path(&self) -> Option<&str> {
        Some(self.url.path()).filter(|p| !p.is_empty())
    }

    pub fn query(&self) -> Option<&str> {
        self.url.query().filter(|q| !q.is_empty())
    }

    pub fn fragment(&self) -> Option<&str> {
        self.url.fragment().filter(|f| !f.is_empty())
    }

    pub fn username(&self) -> Option<&str> {
        Some(self.url.username()).filter(|u| !u.is_empty())
    }
}

/// Whether raw text that did not parse might still hide credentials, in
/// which case it is better left out than copied to `url.original`.
pub fn may_hold_credentials(raw: &str) -> bool {
    raw.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_query_and_default_ports() {
        let raw = "http://intranet.example.com.au:8080/admin/login.php?user=x&next=%2F";
        let link = Link::parse(raw).unwrap();
        assert_eq!(link.scheme(), "http");
        assert_eq!(link.domain(), Some("intranet.example.com.au"));
        assert_eq!(link.port(), Some(8080));
        assert_eq!(link.path(), Some("/admin/login.php"));
        assert_eq!(link.query(), Some("user=x&next=%2F"));
        assert_eq!(link.original(raw), raw);

        assert_eq!(Link::parse("https://example.com/").unwrap().port(), Some(443));
    }

    #[test]
    fn passwords_are_taken_out() {
        let raw = "http://admin:hunter2@example.com/x";
        let link = Link::parse(raw).unwrap();
        assert!(!link.original(raw).contains("hunter2"));
        assert!(!link.full().contains("hunter2"));
        assert_eq!(link.username(), Some("admin"));
    }

    #[test]
    fn ip_hosts_are_not_domain_names() {
        let link = Link::parse("http://[2001:db8::1]:8080/").unwrap();
        assert_eq!(link.domain(), Some("[2001:db8::1]"));
        assert!(!link.has_domain_name());
    }

    #[test]
    fn relative_and_authority_forms_do_not_parse() {
        for raw in ["/admin", "intranet.example.com:443", "mailto:a@example.com", "", "http://"] {
            assert!(Link::parse(raw).is_none(), "{raw}");
        }
    }
}
