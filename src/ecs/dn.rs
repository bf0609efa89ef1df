//! LDAP bind names (`DN` of LDAP bind attempts) as `user.name` and
//! `user.domain`.
//!
//! Sekoia only reads lowercase `dc=` and never fills the user; Active
//! Directory writes `CN=…,DC=…`. Attribute names are therefore matched without
//! regard to case (and by OID), RDNs are split on separators that are neither
//! escaped nor quoted, and the domain is every `dc` value joined with dots.
//! AD also accepts `user@domain` and `DOMAIN\user` as bind names; those are
//! read too.

use std::borrow::Cow;

/// Who a bind name designates, as far as it tells.
#[derive(Debug, Default, PartialEq)]
pub struct BindName<'a> {
    pub user: Option<Cow<'a, str>>,
    pub domain: Option<Cow<'a, str>>,
}

/// Attributes that matter here.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Attribute {
    // Ordered by how surely each names the user: a `cn` can be a container.
    Cn,
    SamAccountName,
    Uid,
    Dc,
}

/// Reads a bind name; parts it does not find stay `None`.
pub fn parse(dn: &str) -> BindName<'_> {
    let dn = dn.trim();
    if !dn.contains('=') {
        return account_name(dn);
    }
    let mut name = BindName::default();
    let mut user_rank = None;

    for (index, (attribute, value)) in avas(dn).enumerate() {
        let Some(attribute) = attribute_of(attribute) else { continue };
        if value.is_empty() {
            continue;
        }
        if attribute == Attribute::Dc {
            name.domain = Some(join_label(name.domain.take(), value));
            continue;
        }
        // Right of the first RDN a `cn` is a container (`cn=Users`), not a user.
        let usable = attribute != Attribute::Cn || index == 0;
        if usable && user_rank.is_none_or(|rank| attribute > rank) {
            user_rank = Some(attribute);
            name.user = Some(unescape(value));
        }
    }
    name
}

/// `user@domain`, `DOMAIN\user` or a bare account name.
fn account_name(text: &str) -> BindName<'_> {
    let split = text.rsplit_once('@').or_else(|| text.split_once('\\').map(|(d, u)| (u, d)));
    let (user, domain) = match split {
        Some((user, domain)) => (user, Some(domain)),
        None => (text, None),
    };
    BindName { user: present(user), domain: domain.and_then(present) }
}

fn present(text: &str) -> Option<Cow<'_, str>> {
    (!text.is_empty()).then_some(Cow::Borrowed(text))
}

fn attribute_of(name: &str) -> Option<Attribute> {
    const NAMES: [(&str, &str, Attribute); 4] = [
        ("uid", "0.9.2342.19200300.100.1.1", Attribute::Uid),
        ("cn", "2.5.4.3", Attribute::Cn),
        ("samaccountname", "1.2.840.113556.1.4.221", Attribute::SamAccountName),
        ("dc", "0.9.2342.19200300.100.1.25", Attribute::Dc),
    ];
    let name = name.strip_prefix("OID.").or_else(|| name.strip_prefix("oid.")).unwrap_or(name);
    NAMES
        .iter()
        .find(|(short, oid, _)| name.eq_ignore_ascii_case(short) || name == *oid)
        .map(|&(_, _, attribute)| attribute)
}

fn join_label<'a>(domain: Option<Cow<'a, str>>, label: &'a str) -> Cow<'a, str> {
    match domain {
        None => unescape(label),
        Some(domain) => {
            let mut joined = domain.into_owned();
            joined.push('.');
            joined.push_str(&unescape(label));
            Cow::Owned(joined)
        }
    }
}

/// The attribute-value pairs of a DN, raw values trimmed.
fn avas(dn: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut rest = Some(dn);
    std::iter::from_fn(move || {
        loop {
            let text = rest?;
            let (ava, tail) = match separator(text) {
                Some(at) => (&text[..at], Some(&text[at + 1..])),
                None => (text, None),
            };
            rest = tail;
            if let Some((attribute, value)) = ava.split_once('=') {
                return Some((attribute.trim(), value.trim()));
            }
        }
    })
}

/// The offset of the first `,` `+` or `;` that is neither escaped nor quoted.
/// `+` joins the values of a multi-valued RDN and `;` is RFC 1779's comma:
/// splitting on them too treats every value alike.
fn separator(text: &str) -> Option<usize> {
    let (mut escaped, mut quoted) = (false, false);
    for (at, byte) in text.bytes().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'"' => quoted = !quoted,
            b',' | b'+' | b';' if !quoted => return Some(at),
            _ => {}
        }
    }
    None
}

/// Removes quotes and RFC 4514 escapes (`\,` and hex pairs such as `\2C`).
fn unescape(value: &str) -> Cow<'_, str> {
    let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => inner,
        None => value,
    };
    if !value.contains('\\') {
        return Cow::Borrowed(value);
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes.get(at + 1..at + 3).and_then(hex_pair);
        match (bytes[at], hex) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                at += 3;
            }
            (b'\\', None) if at + 1 < bytes.len() => {
                out.push(bytes[at + 1]);
                at += 2;
            }
            (byte, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex_pair(pair: &[u8]) -> Option<u8> {
    let text = std::str::from_utf8(pair).ok()?;
    u8::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(dn: &str) -> (Option<String>, Option<String>) {
        let name = parse(dn);
        (name.user.map(Cow::into_owned), name.domain.map(Cow::into_owned))
    }

    fn both(user: &str, domain: &str) -> (Option<String>, Option<String>) {
        (Some(user.to_owned()), Some(domain.to_owned()))
    }

    #[test]
    fn openldap_uid() {
        assert_eq!(
            read("uid=john.doe,ou=People,dc=example,dc=com"),
            both("john.doe", "example.com")
        );
    }

    #[test]
    fn active_directory_upper_case() {
        assert_eq!(
            read("CN=Jane Roe,OU=Staff,DC=corp,DC=example,DC=com"),
            both("Jane Roe", "corp.example.com")
        );
    }

    #[test]
    fn uid_beats_cn_and_containers_are_not_users() {
        assert_eq!(
            read("cn=John Doe+uid=jdoe,ou=x,dc=example,dc=org"),
            both("jdoe", "example.org")
        );
        assert_eq!(
            read("uid=jdoe,cn=users,cn=accounts,dc=example,dc=org"),
            both("jdoe", "example.org")
        );
        assert_eq!(
            read("ou=People,cn=Users,dc=example,dc=org"),
            (None, Some("example.org".into()))
        );
        assert_eq!(read("sAMAccountName=jroe,DC=corp"), both("jroe", "corp"));
    }

    #[test]
    fn escapes_quotes_and_spaces() {
        assert_eq!(
            read(r"CN=Roe\, Jane,OU=Staff,DC=example,DC=com"),
            both("Roe, Jane", "example.com")
        );
        assert_eq!(
            read(r#"cn="Roe, Jane", dc=example , dc=com"#),
            both("Roe, Jane", "example.com")
        );
        assert_eq!(read(r"cn=Jos\C3\A9,dc=example,dc=com"), both("José", "example.com"));
        assert_eq!(read(r"cn=trailing\"), (Some(r"trailing\".into()), None));
    }

    #[test]
    fn oid_attribute_names() {
        assert_eq!(
            read("0.9.2342.19200300.100.1.1=jdoe,0.9.2342.19200300.100.1.25=example"),
            both("jdoe", "example")
        );
    }

    #[test]
    fn account_name_forms() {
        assert_eq!(read("jdoe@corp.example.com"), both("jdoe", "corp.example.com"));
        assert_eq!(read(r"CORP\jdoe"), both("jdoe", "CORP"));
        assert_eq!(read("jdoe"), (Some("jdoe".into()), None));
        assert_eq!(read(""), (None, None));
        assert_eq!(read("@"), (None, None));
    }

    #[test]
    fn junk_never_panics() {
        for dn in ["=", ",,,", "dc=", "cn=\\", "cn=\\4", "cn=\\zz", "=,=,dc=é,=x", "\u{0}=\u{0}"] {
            let _ = parse(dn);
        }
    }
}
