//! Requested URLs (`URL` of HTTP proxy requests, `url` of HTTP tokens) split
//! into the ECS `url.*` fields.
//!
//! The `url` crate normalises what it parses, so `url.full` is its
//! serialisation while `url.original` stays the raw text. A URL may carry
//! credentials (`http://user:secret@host/`) or secrets in its query
//! (`?password=...`); neither ever reaches the output.

use url::Url;

/// A parsed absolute URL with a host, ready to be mapped.
pub struct Link {
    url: Url,
    /// Whether the raw text held a password that had to be taken out.
    redacted: bool,
    /// A proxy's CONNECT target (`host:port`): only a host and a port were
    /// given, the scheme and path in `url` are placeholders.
    authority_only: bool,
}

/// Query parameter names whose values are secrets (compared without regard
/// to case): a login form sent through a proxy, a token in a link.
const SECRET_PARAMETERS: [&str; 10] = [
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "token",
    "access_token",
    "api_key",
    "apikey",
    "auth",
];

impl Link {
    /// Parses `raw`: an absolute URL with a host, or a CONNECT target
    /// (`host:port`). Relative references and URLs without a host give `None`.
    pub fn parse(raw: &str) -> Option<Link> {
        let raw = raw.trim();
        if let Some(link) = Link::authority(raw) {
            return Some(link);
        }
        let mut url = Url::parse(raw).ok()?;
        if !url.has_host() {
            return None;
        }
        let mut redacted = url.password().is_some();
        if redacted {
            // Only fails for URLs that cannot hold credentials at all.
            url.set_password(None).ok()?;
        }
        redacted |= redact_query(&mut url);
        Some(Link { url, redacted, authority_only: false })
    }

    /// A CONNECT target: a host name or IP literal, a colon and a port,
    /// nothing else.
    fn authority(raw: &str) -> Option<Link> {
        let (host, port) = raw.rsplit_once(':')?;
        let plain = !host.is_empty()
            && !host.contains(['/', '@', '?', '#', ' '])
            && port.parse::<u16>().is_ok()
            && !raw.contains("://");
        if !plain {
            return None;
        }
        // Parsed with a placeholder scheme that has no default port, so the
        // given port is kept as written.
        let url = Url::parse(&format!("connect://{raw}")).ok()?;
        url.host_str()?;
        Some(Link { url, redacted: false, authority_only: true })
    }

    /// The text for `url.original`: the raw text, unless it held a secret.
    pub fn original<'a>(&'a self, raw: &'a str) -> &'a str {
        if self.redacted { self.url.as_str() } else { raw }
    }

    /// `url.full`; a CONNECT target has no full URL.
    pub fn full(&self) -> Option<&str> {
        (!self.authority_only).then(|| self.url.as_str())
    }

    pub fn scheme(&self) -> Option<&str> {
        (!self.authority_only).then(|| self.url.scheme())
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
        Some(self.url.path()).filter(|p| !p.is_empty() && !self.authority_only)
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

/// `text` with a URL's password and secret query parameters redacted, when
/// it is a URL (absolute, or a path with a query) that has any; `None` when
/// there is nothing to hide.
pub fn redact(text: &str) -> Option<String> {
    if !text.contains(['@', '?']) {
        return None;
    }
    if let Ok(mut url) = Url::parse(text) {
        let password = url.password().is_some() && url.set_password(None).is_ok();
        let query = redact_query(&mut url);
        return (password || query).then(|| url.into());
    }
    // A path and query as a web Canary logs them: parsed against a
    // placeholder base, given back without it.
    let (path, _) = text.split_once('?')?;
    if !path.starts_with('/') {
        return None;
    }
    let mut url = Url::parse("http://path.invalid").ok()?.join(text).ok()?;
    redact_query(&mut url).then(|| {
        let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
        let fragment = url.fragment().map(|f| format!("#{f}")).unwrap_or_default();
        format!("{path}{query}{fragment}")
    })
}

/// Replaces the values of secret-looking query parameters with
/// [`REDACTED`](crate::flatten::REDACTED); says whether it did.
fn redact_query(url: &mut Url) -> bool {
    let secret = |name: &str| SECRET_PARAMETERS.iter().any(|s| s.eq_ignore_ascii_case(name));
    if !url.query_pairs().any(|(name, _)| secret(&name)) {
        return false;
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| {
            let value = if secret(&name) { crate::flatten::REDACTED.into() } else { value };
            (name.into_owned(), value.into_owned())
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    true
}

/// Whether raw text that did not parse might still hide credentials, in
/// which case it is better left out than copied to `url.original`.
pub fn may_hold_credentials(raw: &str) -> bool {
    let lower = raw.to_ascii_lowercase();
    raw.contains('@') || SECRET_PARAMETERS.iter().any(|name| lower.contains(&format!("{name}=")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_query_and_default_ports() {
        let raw = "http://intranet.example.com.au:8080/admin/login.php?user=x&next=%2F";
        let link = Link::parse(raw).unwrap();
        assert_eq!(link.scheme(), Some("http"));
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
        assert!(!link.full().unwrap().contains("hunter2"));
        assert_eq!(link.username(), Some("admin"));
    }

    #[test]
    fn ip_hosts_are_not_domain_names() {
        let link = Link::parse("http://[2001:db8::1]:8080/").unwrap();
        assert_eq!(link.domain(), Some("[2001:db8::1]"));
        assert!(!link.has_domain_name());
    }

    #[test]
    fn relative_forms_do_not_parse() {
        for raw in ["/admin", "mailto:a@example.com", "", "http://", "a/b:80", ":443", "h:99999"] {
            assert!(Link::parse(raw).is_none(), "{raw}");
        }
    }

    #[test]
    fn connect_targets_give_host_and_port_only() {
        let link = Link::parse("intranet.example.com:443").unwrap();
        assert_eq!(link.domain(), Some("intranet.example.com"));
        assert_eq!(link.port(), Some(443));
        assert_eq!((link.scheme(), link.full(), link.path()), (None, None, None));
        let link = Link::parse("[2001:db8::5]:8443").unwrap();
        assert_eq!(link.domain(), Some("[2001:db8::5]"));
        assert_eq!(link.port(), Some(8443));
    }

    #[test]
    fn text_holding_urls_is_redacted() {
        let redacted = redact("http://admin:pw1@inner.example/?token=t0k&pwd=pw2&q=1").unwrap();
        assert!(
            !redacted.contains("pw1") && !redacted.contains("t0k") && !redacted.contains("pw2")
        );
        assert!(redacted.contains("q=1"), "{redacted}");
        assert_eq!(
            redact("/login?user=a&password=pw3#top").unwrap(),
            "/login?user=a&password=%5BREDACTED%5D#top"
        );
        for plain in
            ["just text", "/a?q=1", "user@example.com", "http://example.com/?q=1", "a?password=x"]
        {
            assert_eq!(redact(plain), None, "{plain}");
        }
    }

    #[test]
    fn secret_query_parameters_are_redacted() {
        let raw = "http://example.com/login?user=bob&Password=hunter2&next=%2Fhome";
        let link = Link::parse(raw).unwrap();
        for text in [link.original(raw), link.full().unwrap(), link.query().unwrap()] {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(text.contains("user=bob") && text.contains("REDACTED"), "{text}");
        }
        assert!(may_hold_credentials("not a url?pwd=x"));
        assert!(!may_hold_credentials("not a url?q=x"));
        let plain = "http://example.com/?q=a+b";
        assert_eq!(Link::parse(plain).unwrap().original(plain), plain, "nothing to hide");
    }
}
