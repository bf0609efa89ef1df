//! Host names: told apart from IP literals, then split on the public suffix
//! list into the ECS `registered_domain`, `subdomain` and `top_level_domain`.
//!
//! The parts are slices of the name as it came, so they cost no allocation;
//! only the suffix lookup sees a lowercased copy, kept on the stack.

use std::net::IpAddr;

/// The longest name DNS allows is 253 characters; anything longer is not one.
const MAX_NAME: usize = 253;

/// What a host field holds once blanks, a port and a trailing dot are gone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Host<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

/// Reads a host as found in `HOSTNAME`, `HOST` or `src_host_reverse`. An HTTP
/// `Host` header may carry a port (`example.com:8080`, `[2001:db8::1]:443`).
/// A git request's host parameter ends at a NUL, after which OpenCanary
/// keeps the client's extra parameters (`127.0.0.1:9418\0\0version=2`).
pub fn host(raw: &str) -> Option<Host<'_>> {
    let raw = raw.split('\0').next().unwrap_or(raw);
    let bare = without_port(raw.trim());
    let bare = bare.strip_suffix('.').unwrap_or(bare);
    if bare.is_empty() {
        return None;
    }
    Some(match bare.parse() {
        Ok(ip) => Host::Ip(ip),
        Err(_) => Host::Name(bare),
    })
}

fn without_port(raw: &str) -> &str {
    if let Some(inner) = raw.strip_prefix('[') {
        return inner.split_once(']').map_or(inner, |(address, _)| address);
    }
    // More than one colon is a bare IPv6 address, which has no port.
    match raw.split_once(':') {
        Some((name, port))
            if !port.is_empty()
                && !port.contains(':')
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name
        }
        _ => raw,
    }
}

/// A domain name split on the public suffix list.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Parts<'a> {
    pub registered_domain: &'a str,
    /// `None` when the name is the registered domain itself.
    pub subdomain: Option<&'a str>,
    pub top_level_domain: &'a str,
}

/// Splits `name`, or answers `None` when its suffix is not on the list (an
/// internal name such as `fileserver.corp`) or it is not a plausible name.
pub fn parts(name: &str) -> Option<Parts<'_>> {
    if !plausible(name) {
        return None;
    }
    // The list is lowercase; ASCII lowercasing keeps every byte offset, so the
    // lengths found on the copy slice the original.
    let mut buffer = [0u8; MAX_NAME];
    let lower = buffer.get_mut(..name.len())?;
    lower.copy_from_slice(name.as_bytes());
    lower.make_ascii_lowercase();

    let domain = psl::domain(lower)?;
    let suffix = domain.suffix();
    if !suffix.is_known() {
        return None;
    }
    let registered_at = name.len() - domain.as_bytes().len();
    Some(Parts {
        registered_domain: name.get(registered_at..)?,
        subdomain: registered_at.checked_sub(1).and_then(|end| name.get(..end)),
        top_level_domain: name.get(name.len() - suffix.as_bytes().len()..)?,
    })
}

/// Letters, digits, `-`, `_` and non-ASCII (internationalised) labels, with no
/// empty label: enough to keep URLs, paths and prose out of the lookup.
fn plausible(name: &str) -> bool {
    name.len() <= MAX_NAME
        && !name.starts_with('.')
        && !name.contains("..")
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b) || b >= 0x80)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(name: &str) -> Option<(&str, Option<&str>, &str)> {
        parts(name).map(|p| (p.registered_domain, p.subdomain, p.top_level_domain))
    }

    #[test]
    fn single_label_suffixes() {
        assert_eq!(split("vm000000.example.org"), Some(("example.org", Some("vm000000"), "org")));
        assert_eq!(split("example.org"), Some(("example.org", None, "org")));
    }

    #[test]
    fn multi_label_suffixes() {
        assert_eq!(
            split("mail.host.example.co.uk"),
            Some(("example.co.uk", Some("mail.host"), "co.uk"))
        );
        assert_eq!(
            split("intranet.example.com.au"),
            Some(("example.com.au", Some("intranet"), "com.au"))
        );
    }

    #[test]
    fn case_is_kept_but_ignored_for_the_lookup() {
        assert_eq!(split("WWW.Example.CO.UK"), Some(("Example.CO.UK", Some("WWW"), "CO.UK")));
    }

    #[test]
    fn unknown_suffixes_bare_suffixes_and_junk_give_nothing() {
        for name in
            ["fileserver.corp", "localhost", "co.uk", "", "a b.example.com", "x..example.com"]
        {
            assert_eq!(split(name), None, "{name}");
        }
        assert_eq!(split(&"a".repeat(300)), None);
    }

    #[test]
    fn hosts_drop_ports_and_tell_ips_from_names() {
        assert_eq!(host("example.com:8080"), Some(Host::Name("example.com")));
        assert_eq!(host(" example.com. "), Some(Host::Name("example.com")));
        assert_eq!(host("192.0.2.1:80"), Some(Host::Ip("192.0.2.1".parse().unwrap())));
        assert_eq!(host("[2001:db8::1]:443"), Some(Host::Ip("2001:db8::1".parse().unwrap())));
        assert_eq!(host("2001:db8::1"), Some(Host::Ip("2001:db8::1".parse().unwrap())));
        assert_eq!(host(""), None);
        assert_eq!(host(":80"), None);
        let git = host("example.org:9418\0\0version=2");
        assert_eq!(git, Some(Host::Name("example.org")), "a git host parameter ends at NUL");
    }
}
