//! What each logtype means: the service, a stable action name, the ECS
//! categories it adds, whether it is a login attempt, and how serious it is.
//!
//! Everything is keyed on the logtype number and the product that wrote the
//! record, never on the description text (Sekoia's own test cases carry
//! descriptions that do not match their logtypes). The console's and
//! OpenCanary's numbers overlap with different meanings, so each has its
//! own table. Sources: the catalogue in the Console API reference (section 7)
//! and the categorisation scheme of the ECS mapping notes (section 5).

use crate::flatten::Origin;

/// How serious an event is, with the Elastic rule convention's numbers,
/// written to both `event.severity` and `event.risk_score`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub fn score(self) -> u8 {
        match self {
            Level::Low => 21,
            Level::Medium => 47,
            Level::High => 73,
            Level::Critical => 99,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }

    /// One level less serious, never below low.
    pub fn lower(self) -> Level {
        match self {
            Level::Critical => Level::High,
            Level::High => Level::Medium,
            Level::Medium | Level::Low => Level::Low,
        }
    }
}

/// What a logtype means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info {
    /// The catalogue's name for it, used when a record has no description.
    pub name: &'static str,
    /// `event.action`: lower case words joined by dashes, never changed once
    /// published, since rules match on it.
    pub action: &'static str,
    /// `network.protocol`: the service the decoy played.
    pub protocol: Option<&'static str>,
    /// ECS categories added after `intrusion_detection`.
    pub categories: &'static [&'static str],
    /// ECS types added after the profile's base type.
    pub types: &'static [&'static str],
    /// A login attempt against a decoy: it fails (`event.outcome`), whatever
    /// the attacker typed.
    pub login: bool,
    pub level: Level,
    /// An operational notice (a Canary went offline, settings changed), not
    /// an attack: `event.kind` is `event` rather than `alert`.
    pub notice: bool,
}

/// The table a record's logtype is looked up in.
pub fn lookup(origin: Origin, code: u64) -> Option<&'static Info> {
    let table = match origin {
        Origin::Console => CONSOLE,
        Origin::OpenCanary => OPENCANARY,
    };
    let code = u32::try_from(code).ok()?;
    let at = table.binary_search_by_key(&code, |(c, _)| *c).ok()?;
    Some(&table[at].1)
}

/// Every entry of a table, for the README and the tests.
pub fn table(origin: Origin) -> &'static [(u32, Info)] {
    match origin {
        Origin::Console => CONSOLE,
        Origin::OpenCanary => OPENCANARY,
    }
}

// Constructors by kind of event, so that each table row reads as one line.

const AUTH: &[&str] = &["authentication"];
const START: &[&str] = &["start"];
const NETWORK: &[&str] = &["network"];
const CONNECTION: &[&str] = &["connection"];
const ACCESS: &[&str] = &["access"];
const WEB: &[&str] = &["web"];
const INFO: &[&str] = &["info"];

const fn info(
    name: &'static str,
    action: &'static str,
    protocol: Option<&'static str>,
    categories: &'static [&'static str],
    types: &'static [&'static str],
    level: Level,
) -> Info {
    Info { name, action, protocol, categories, types, login: false, level, notice: false }
}

/// A login attempt: authentication, start, failure, high.
const fn login(name: &'static str, action: &'static str, protocol: &'static str) -> Info {
    Info { login: true, ..info(name, action, Some(protocol), AUTH, START, Level::High) }
}

/// A login attempt over the web.
const fn web_login(name: &'static str, action: &'static str) -> Info {
    Info {
        login: true,
        ..info(
            name,
            action,
            Some("http"),
            &["authentication", "web"],
            &["start", "access"],
            Level::High,
        )
    }
}

/// A request to a web decoy: probing, medium.
const fn web(name: &'static str, action: &'static str) -> Info {
    info(name, action, Some("http"), WEB, ACCESS, Level::Medium)
}

/// Contact with a service without credentials: medium.
const fn contact(name: &'static str, action: &'static str, protocol: Option<&'static str>) -> Info {
    info(name, action, protocol, NETWORK, CONNECTION, Level::Medium)
}

/// A port scan: reconnaissance, medium.
const fn scan(name: &'static str, action: &'static str) -> Info {
    info(name, action, None, NETWORK, CONNECTION, Level::Medium)
}

/// A command run against a data service: high.
const fn command(name: &'static str, action: &'static str, protocol: &'static str) -> Info {
    info(name, action, Some(protocol), &["database"], ACCESS, Level::High)
}

/// A Canarytoken fired. Tokens whose bait is a credential or a payment card
/// are critical: someone tried to use what they stole.
const fn token(name: &'static str, action: &'static str, protocol: &'static str) -> Info {
    let web_channel = matches!(protocol.as_bytes(), b"http");
    let categories: &'static [&'static str] = if web_channel { WEB } else { &[] };
    let types: &'static [&'static str] = if web_channel { ACCESS } else { INFO };
    info(name, action, Some(protocol), categories, types, Level::High)
}

const fn credential_token(name: &'static str, action: &'static str) -> Info {
    Info { level: Level::Critical, ..token(name, action, "http") }
}

/// An operational notice: low, `event.kind` event.
const fn notice(
    name: &'static str,
    action: &'static str,
    category: &'static [&'static str],
    types: &'static [&'static str],
) -> Info {
    Info { notice: true, ..info(name, action, None, category, types, Level::Low) }
}

const HOST: &[&str] = &["host"];
const CONFIGURATION: &[&str] = &["configuration"];
const CHANGE: &[&str] = &["change"];

/// The commercial console's logtypes (`description.logtype`, syslog
/// `eventid`, webhook `LogType`), sorted by code.
#[rustfmt::skip]
static CONSOLE: &[(u32, Info)] = &[
    (1004, notice("Canary Disconnected", "canary-disconnected", HOST, INFO)),
    (2000, login("FTP Login Attempt", "ftp-login-attempt", "ftp")),
    (3000, web("HTTP Page Load", "http-page-load")),
    (3001, web_login("HTTP Login Attempt", "http-login-attempt")),
    (3002, web("HTTP POST Request", "http-post-request")),
    (3003, web("HTTP Error Page Requested", "http-error-page")),
    (3004, web("HTTP Service Scan", "http-service-scan")),
    (3005, web("HTTP API Request", "http-api-request")),
    (3006, web("HTTP POST Request to an Error Page", "http-post-error-page")),
    (4000, contact("SSH New Connection", "ssh-new-connection", Some("ssh"))),
    (4001, contact("SSH Version Sent", "ssh-version-sent", Some("ssh"))),
    (4002, login("SSH Login Attempt", "ssh-login-attempt", "ssh")),
    (5000, info("Shared File Opened", "smb-file-opened", Some("smb"), &["file"], ACCESS, Level::High)),
    (5001, scan("Port SYN Scan", "port-syn-scan")),
    (5002, scan("Network Port Scan", "network-port-scan")),
    (5003, scan("Host Port Scan", "host-port-scan")),
    (5004, scan("NMAP OS Scan Detected", "nmap-os-scan")),
    (5005, scan("NMAP NULL Scan Detected", "nmap-null-scan")),
    (5006, scan("NMAP XMAS Scan Detected", "nmap-xmas-scan")),
    (5007, scan("Consolidated Network Port Scan", "consolidated-port-scan")),
    (5008, scan("NMAP FIN Scan Detected", "nmap-fin-scan")),
    (5009, scan("RUNFINGER Scan", "runfinger-scan")),
    (5010, info("File Share Login", "smb-login", Some("smb"), AUTH, START, Level::High)),
    (5011, scan("SMB Dialect Scan", "smb-dialect-scan")),
    (5012, scan("SMB LANMAN Scan", "smb-lanman-scan")),
    (5013, info("File Share Group Enumeration", "smb-group-enumeration", Some("smb"), &["iam"], &["group", "info"], Level::Medium)),
    (5014, contact("File Share Connection", "smb-connection", Some("smb"))),
    (5015, info("File Share Registry Access", "smb-registry-access", Some("smb"), &["registry"], ACCESS, Level::High)),
    (6001, login("Telnet Login Attempt", "telnet-login-attempt", "telnet")),
    (7001, Info { categories: &["web", "authentication"], types: &["access", "start"], ..login("HTTP Proxy Request", "http-proxy-request", "http") }),
    (8001, login("MySQL Login Attempt", "mysql-login-attempt", "mysql")),
    (9001, login("MSSQL Login Attempt", "mssql-login-attempt", "mssql")),
    (9002, login("MSSQL Login Attempt (Windows Authentication)", "mssql-windows-login-attempt", "mssql")),
    (10001, info("TFTP Request", "tftp-request", Some("tftp"), &["file"], ACCESS, Level::High)),
    (11001, contact("NTP Monlist Request", "ntp-monlist-request", Some("ntp"))),
    (12001, login("VNC Login Attempt", "vnc-login-attempt", "vnc")),
    (13001, contact("SNMP Request", "snmp-request", Some("snmp"))),
    (14001, contact("RDP New Connection", "rdp-new-connection", Some("rdp"))),
    (14002, contact("RDP Failed Connection", "rdp-failed-connection", Some("rdp"))),
    (14003, info("RDP Confirmed Connection", "rdp-confirmed-connection", Some("rdp"), AUTH, START, Level::High)),
    (14004, login("RDP Login Attempt", "rdp-login-attempt", "rdp")),
    (15001, contact("SIP Request", "sip-request", Some("sip"))),
    (16000, token("DNS Canarytoken Triggered", "canarytoken-dns", "dns")),
    (16006, token("Windows Folder Canarytoken Triggered", "canarytoken-windows-dir", "dns")),
    (16008, token("Acrobat PDF Canarytoken Triggered", "canarytoken-pdf-acrobat-reader", "dns")),
    (16009, token("MS Word Macro Canarytoken Triggered", "canarytoken-msword-macro", "dns")),
    (16010, token("MS Excel Macro Canarytoken Triggered", "canarytoken-msexcel-macro", "dns")),
    (16011, token("Sensitive Command Canarytoken Triggered", "canarytoken-sensitive-cmd", "dns")),
    (16012, Info { level: Level::Critical, ..token("Active Directory Login Canarytoken Triggered", "canarytoken-active-directory-login", "dns") }),
    (17000, token("HTTP Canarytoken Triggered", "canarytoken-http", "http")),
    (17001, token("Web Image Canarytoken Triggered", "canarytoken-web-image", "http")),
    (17002, token("MS Word Document Canarytoken Triggered", "canarytoken-doc-msword", "http")),
    (17003, token("Cloned Website Canarytoken Triggered", "canarytoken-cloned-web", "http")),
    (17004, token("MS Word Document Canarytoken Triggered", "canarytoken-doc-msword", "http")),
    (17005, token("AWS S3 Canarytoken Triggered", "canarytoken-aws-s3", "http")),
    (17006, token("Google Docs Canarytoken Triggered", "canarytoken-google-docs", "http")),
    (17007, token("Google Sheets Canarytoken Triggered", "canarytoken-google-sheets", "http")),
    (17008, token("Signed Executable Canarytoken Triggered", "canarytoken-signed-exe", "http")),
    (17009, token("QR Code Canarytoken Triggered", "canarytoken-qr-code", "http")),
    (17010, token("SVN Canarytoken Triggered", "canarytoken-svn", "http")),
    (17011, token("SQL Canarytoken Triggered", "canarytoken-sql", "http")),
    (17012, credential_token("AWS API Key Canarytoken Triggered", "canarytoken-aws-id")),
    (17016, token("Fast Redirect Canarytoken Triggered", "canarytoken-fast-redirect", "http")),
    (17017, token("Slow Redirect Canarytoken Triggered", "canarytoken-slow-redirect", "http")),
    (17019, token("Office 365 Mail Canarytoken Triggered", "canarytoken-office365mail", "http")),
    (17020, credential_token("Slack API Key Canarytoken Triggered", "canarytoken-slack-api")),
    (17021, token("Gmail Canarytoken Triggered", "canarytoken-gmail", "http")),
    (17022, Info { level: Level::Critical, ..token("WireGuard Canarytoken Triggered", "canarytoken-wireguard", "wireguard") }),
    (17023, token("MS Excel Document Canarytoken Triggered", "canarytoken-doc-msexcel", "http")),
    (17024, credential_token("Azure Login Certificate Canarytoken Triggered", "canarytoken-azure-id")),
    (17025, token("Cloned CSS Canarytoken Triggered", "canarytoken-cloned-css", "http")),
    (17026, credential_token("Azure Entra ID Login Canarytoken Triggered", "canarytoken-azure-entra-login")),
    (17027, credential_token("Credit Card Canarytoken Triggered", "canarytoken-credit-card")),
    (17028, token("Fake App Canarytoken Triggered", "canarytoken-pwa", "http")),
    (17029, token("MySQL Dump Canarytoken Triggered", "canarytoken-mysql-dump", "mysql")),
    (18001, contact("ModBus Query Function", "modbus-query", Some("modbus"))),
    (18002, contact("ModBus Read Function", "modbus-read", Some("modbus"))),
    (18003, info("ModBus Write Function", "modbus-write", Some("modbus"), NETWORK, &["access", "change"], Level::High)),
    (19001, info("Git Repository Clone Attempt", "git-clone-attempt", Some("git"), NETWORK, ACCESS, Level::High)),
    (20001, contact("Custom TCP Service: Banner on Connect", "tcp-banner-connect", None)),
    (20002, contact("Custom TCP Service: Banner after Data", "tcp-banner-data", None)),
    (20003, contact("Custom TCP Service: Keep-Alive Connect", "tcp-keepalive-connect", None)),
    (20004, contact("Custom TCP Service: Keep-Alive Secret", "tcp-keepalive-secret", None)),
    (20005, contact("Custom TCP Service: Keep-Alive Data", "tcp-keepalive-data", None)),
    (20006, contact("Custom TCP Service: Connection Refused", "tcp-connection-refused", None)),
    (21001, command("Redis Command", "redis-command", "redis")),
    (22001, notice("Network Settings Roll-back", "network-settings-rollback", HOST, INFO)),
    // One page of the documentation numbers the roll-back 22011.
    (22011, notice("Network Settings Roll-back", "network-settings-rollback", HOST, INFO)),
    (23001, notice("Console Settings Changed", "console-settings-changed", CONFIGURATION, CHANGE)),
    (23002, notice("Canary Settings Changed", "canary-settings-changed", CONFIGURATION, CHANGE)),
    (23003, notice("Flock Settings Changed", "flock-settings-changed", CONFIGURATION, CHANGE)),
    (28001, command("Mongo Command", "mongo-command", "mongodb")),
    (28002, login("Mongo Authentication Attempt", "mongo-authentication-attempt", "mongodb")),
    // TODO: The documentation gives 29001 to the SSH key breadcrumb as well,
    // probably by mistake; such a record would be mapped as WinRM.
    (29001, login("WinRM Login Attempt", "winrm-login-attempt", "winrm")),
    (30001, info("Local Tampering Detected", "local-tampering", None, HOST, &["change"], Level::High)),
    (31001, login("LDAP Bind Attempt", "ldap-bind-attempt", "ldap")),
    (32001, login("TN3270 Login Attempt", "tn3270-login-attempt", "tn3270")),
    (111111, notice("Dummy Incident (connection test)", "test-incident", HOST, INFO)),
];

/// OpenCanary's logtypes (`opencanary/logger.py`), sorted by code.
#[rustfmt::skip]
static OPENCANARY: &[(u32, Info)] = &[
    (1000, notice("OpenCanary Boot", "opencanary-boot", HOST, INFO)),
    (1001, notice("OpenCanary Message", "opencanary-message", HOST, INFO)),
    (1002, notice("OpenCanary Debug", "opencanary-debug", HOST, INFO)),
    (1003, notice("OpenCanary Error", "opencanary-error", HOST, INFO)),
    (1004, notice("OpenCanary Ping", "opencanary-ping", HOST, INFO)),
    (1005, notice("OpenCanary Configuration Saved", "opencanary-config-save", CONFIGURATION, CHANGE)),
    (1006, notice("OpenCanary Example", "opencanary-example", HOST, INFO)),
    (2000, login("FTP Login Attempt", "ftp-login-attempt", "ftp")),
    (2001, contact("FTP Authentication Started", "ftp-auth-started", Some("ftp"))),
    (3000, web("HTTP GET Request", "http-get-request")),
    (3001, web_login("HTTP Login Attempt", "http-login-attempt")),
    (3002, web("HTTP Unimplemented Method", "http-unimplemented-method")),
    (3003, web("HTTP Redirect", "http-redirect")),
    (4000, contact("SSH New Connection", "ssh-new-connection", Some("ssh"))),
    (4001, contact("SSH Version Sent", "ssh-version-sent", Some("ssh"))),
    (4002, login("SSH Login Attempt", "ssh-login-attempt", "ssh")),
    (5000, info("SMB File Open", "smb-file-opened", Some("smb"), &["file"], ACCESS, Level::High)),
    (5001, scan("Port SYN Scan", "port-syn-scan")),
    (5002, scan("NMAP OS Scan", "nmap-os-scan")),
    (5003, scan("NMAP NULL Scan", "nmap-null-scan")),
    (5004, scan("NMAP XMAS Scan", "nmap-xmas-scan")),
    (5005, scan("NMAP FIN Scan", "nmap-fin-scan")),
    (6001, login("Telnet Login Attempt", "telnet-login-attempt", "telnet")),
    (6002, contact("Telnet Connection", "telnet-connection", Some("telnet"))),
    (7001, Info { categories: &["web", "authentication"], types: &["access", "start"], ..login("HTTP Proxy Login Attempt", "http-proxy-login-attempt", "http") }),
    (8001, login("MySQL Login Attempt", "mysql-login-attempt", "mysql")),
    (9001, login("MSSQL Login Attempt", "mssql-login-attempt", "mssql")),
    (9002, login("MSSQL Login Attempt (Windows Authentication)", "mssql-windows-login-attempt", "mssql")),
    (9003, contact("MSSQL Connection", "mssql-connection", Some("mssql"))),
    (10001, info("TFTP Request", "tftp-request", Some("tftp"), &["file"], ACCESS, Level::High)),
    (11001, contact("NTP Monlist Request", "ntp-monlist-request", Some("ntp"))),
    (12001, login("VNC Login Attempt", "vnc-login-attempt", "vnc")),
    (13001, contact("SNMP Request", "snmp-request", Some("snmp"))),
    (14001, login("RDP Login Attempt", "rdp-login-attempt", "rdp")),
    (15001, contact("SIP Request", "sip-request", Some("sip"))),
    (16001, info("Git Clone Attempt", "git-clone-attempt", Some("git"), NETWORK, ACCESS, Level::High)),
    (17001, command("Redis Command", "redis-command", "redis")),
    (18001, contact("TCP Banner Connection", "tcp-banner-connect", None)),
    (18002, contact("TCP Banner Keep-Alive Connection", "tcp-keepalive-connect", None)),
    (18003, contact("TCP Banner Keep-Alive Secret", "tcp-keepalive-secret", None)),
    (18004, contact("TCP Banner Keep-Alive Data", "tcp-keepalive-data", None)),
    (18005, contact("TCP Banner Data Received", "tcp-banner-data", None)),
    (19001, contact("LLMNR Query Response", "llmnr-query-response", Some("llmnr"))),
    // Refined by `logdata.action`: see `mongodb_action`.
    (20001, command("MongoDB Activity", "mongodb-activity", "mongodb")),
];

/// OpenCanary writes every MongoDB event under one logtype; its
/// `logdata.action` (`mongodb.auth_attempt`, ...) says which it was.
pub fn mongodb_action(action: &str) -> Option<&'static Info> {
    static AUTH_ATTEMPT: Info =
        login("MongoDB Authentication Attempt", "mongodb-authentication-attempt", "mongodb");
    static COMMAND: Info = command("MongoDB Command", "mongodb-command", "mongodb");
    static CONNECTION: Info = contact("MongoDB Connection", "mongodb-connection", Some("mongodb"));
    static DISCONNECT: Info = contact("MongoDB Disconnect", "mongodb-disconnect", Some("mongodb"));
    static ERROR: Info = contact("MongoDB Error", "mongodb-error", Some("mongodb"));
    match action.strip_prefix("mongodb.")? {
        "auth_attempt" => Some(&AUTH_ATTEMPT),
        "command" => Some(&COMMAND),
        "connection" => Some(&CONNECTION),
        "disconnect" => Some(&DISCONNECT),
        "error" => Some(&ERROR),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_actions_are_slugs() {
        for origin in [Origin::Console, Origin::OpenCanary] {
            let table = table(origin);
            assert!(table.windows(2).all(|w| w[0].0 < w[1].0), "{origin:?} table not sorted");
            for (code, info) in table {
                let slug = info
                    .action
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                assert!(slug && !info.action.starts_with('-'), "{code}: {}", info.action);
                assert_eq!(
                    info.categories.is_empty(),
                    info.types == INFO && !info.notice,
                    "{code}"
                );
                assert_eq!(lookup(origin, u64::from(*code)), Some(info));
            }
        }
    }

    #[test]
    fn the_same_number_means_different_things_per_product() {
        let console = lookup(Origin::Console, 17001).unwrap();
        let open = lookup(Origin::OpenCanary, 17001).unwrap();
        assert_eq!(console.action, "canarytoken-web-image");
        assert_eq!(open.action, "redis-command");
        assert!(lookup(Origin::Console, 16001).is_none());
        assert_eq!(lookup(Origin::OpenCanary, 16001).unwrap().protocol, Some("git"));
        assert!(lookup(Origin::Console, u64::MAX).is_none());
    }

    #[test]
    fn every_catalogued_console_code_is_known() {
        // The codes listed in the Console API reference, section 7.
        let ranges = [
            1004..=1004,
            2000..=2000,
            3000..=3006,
            4000..=4002,
            5000..=5015,
            6001..=6001,
            7001..=7001,
            8001..=8001,
            9001..=9002,
            10001..=10001,
            11001..=11001,
            12001..=12001,
            13001..=13001,
            14001..=14004,
            15001..=15001,
            18001..=18003,
            19001..=19001,
            20001..=20006,
            21001..=21001,
            22001..=22001,
            23001..=23003,
            28001..=28002,
            29001..=29001,
            30001..=30001,
            31001..=31001,
            32001..=32001,
            111111..=111111,
        ];
        for code in ranges.into_iter().flatten() {
            assert!(lookup(Origin::Console, code).is_some(), "{code}");
        }
        let tokens = [16000, 16006, 16008, 16009, 16010, 16011, 16012, 17000, 17012, 17029];
        for code in tokens {
            assert!(lookup(Origin::Console, code).unwrap().action.starts_with("canarytoken-"));
        }
    }
}
