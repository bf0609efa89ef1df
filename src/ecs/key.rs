//! The attacker address inside an incident key.
//!
//! Keys read `incident:<kind>:<hash>:<ip>:<epoch>`. Incident records carry no
//! `src_host`, and token events may carry an empty one, so the key is the last
//! place to find the source. An IPv6 address has colons of its own, so the
//! three leading segments and the trailing epoch are cut off and whatever lies
//! between is the address.

use std::net::IpAddr;

/// The source IP of an incident key, if it has one.
pub fn source_ip(key: &str) -> Option<IpAddr> {
    let mut segments = key.splitn(4, ':');
    let rest = segments.nth(3)?;

    if let Some((address, epoch)) = rest.rsplit_once(':')
        && !epoch.is_empty()
        && epoch.bytes().all(|b| b.is_ascii_digit())
        && let Ok(ip) = address.parse()
    {
        return Some(ip);
    }
    // A key cut short of its epoch still ends with the address.
    rest.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn ipv4_and_ipv6_keys() {
        assert_eq!(
            source_ip("incident:canarytoken:68b329da9893e34099c7d:1.2.3.4:1720684212"),
            ip("1.2.3.4")
        );
        assert_eq!(source_ip("incident:sshlogin:ab12:2001:db8::25:1714558530"), ip("2001:db8::25"));
        assert_eq!(source_ip("incident:sshlogin:ab12:::1:1714558530"), ip("::1"));
    }

    #[test]
    fn keys_without_an_epoch_still_give_the_address() {
        assert_eq!(source_ip("incident:x:ab12:2001:db8::1"), ip("2001:db8::1"));
        assert_eq!(source_ip("incident:x:ab12:192.0.2.9"), ip("192.0.2.9"));
    }

    #[test]
    fn keys_without_an_address_give_nothing() {
        for key in [
            "incident:canarytoken:ab12::1720684212",
            "0123456789abcdef0123456789abcdef",
            "incident:x:ab12:not-an-ip:1",
            "incident:x:ab12:999.1.1.1:1",
            "",
            ":::",
        ] {
            assert_eq!(source_ip(key), None, "{key}");
        }
    }
}
