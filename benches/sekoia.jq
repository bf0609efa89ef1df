# The Sekoia-parity part of canary-transform's mapping, as a jq program, for
# benches/compare.sh: what a user would otherwise write in a shell pipe.
# One flat Canary console record in, one ECS object out. It writes the
# fields Sekoia's intake gives, each with canary-transform's value (default
# profile): field moves, epoch times, source and destination from the host
# fields, IPs and the incident key, the DN's user and domain, url.path and
# url.original, related lists, and the logtype's event category, type,
# action and kind. tests/bench_programs.rs compares them with
# canary-transform's output.
#
# It parses no user agents (user_agent.original only) and no domain names
# (no registered_domain, subdomain or top_level_domain), writes no other
# url.* field, and none of what canary-transform adds beyond Sekoia
# (severity, rule, network, observer details, geo country and location,
# event.id, event.outcome, most of thinkst_canary). Where it is simpler:
# - URLs are read with a pattern, not a URL parser: hosts are only lower
#   cased (no IDNA, no percent-decoding), paths are kept as written, and a
#   URL without "//" after its scheme is not read; a URL holding a password
#   or a secret query parameter gets no url.original (canary-transform
#   writes it redacted);
# - times with fractions of a second, or given as RFC 3339 text, are left out;
# - numbers become text as jq writes them (exact for integers below 2^53).
#
#   jq -c -f benches/sekoia.jq records.ndjson

# The logtype table of canary-transform (src/ecs/logtype.rs, console only):
# code -> [event.action, added event.category, added event.type, flags],
# a flag being "notice" (event.kind is "event") or "mssql" (HOSTNAME names
# the client).
def logtypes: {
  "1004": ["canary-disconnected", ["host"], ["info"], "notice"],
  "2000": ["ftp-login-attempt", ["authentication"], ["start"]],
  "3000": ["http-page-load", ["web"], ["access"]],
  "3001": ["http-login-attempt", ["authentication", "web"], ["start", "access"]],
  "3002": ["http-post-request", ["web"], ["access"]],
  "3003": ["http-error-page", ["web"], ["access"]],
  "3004": ["http-service-scan", ["web"], ["access"]],
  "3005": ["http-api-request", ["web"], ["access"]],
  "3006": ["http-post-error-page", ["web"], ["access"]],
  "4000": ["ssh-new-connection", ["network"], ["connection"]],
  "4001": ["ssh-version-sent", ["network"], ["connection"]],
  "4002": ["ssh-login-attempt", ["authentication"], ["start"]],
  "5000": ["smb-file-opened", ["file"], ["access"]],
  "5001": ["port-syn-scan", ["network"], ["connection"]],
  "5002": ["network-port-scan", ["network"], ["connection"]],
  "5003": ["host-port-scan", ["network"], ["connection"]],
  "5004": ["nmap-os-scan", ["network"], ["connection"]],
  "5005": ["nmap-null-scan", ["network"], ["connection"]],
  "5006": ["nmap-xmas-scan", ["network"], ["connection"]],
  "5007": ["consolidated-port-scan", ["network"], ["connection"]],
  "5008": ["nmap-fin-scan", ["network"], ["connection"]],
  "5009": ["runfinger-scan", ["network"], ["connection"]],
  "5010": ["smb-login", ["authentication"], ["start"]],
  "5011": ["smb-dialect-scan", ["network"], ["connection"]],
  "5012": ["smb-lanman-scan", ["network"], ["connection"]],
  "5013": ["smb-group-enumeration", ["iam"], ["group", "info"]],
  "5014": ["smb-connection", ["network"], ["connection"]],
  "5015": ["smb-registry-access", ["registry"], ["access"]],
  "6001": ["telnet-login-attempt", ["authentication"], ["start"]],
  "7001": ["http-proxy-request", ["web", "authentication"], ["access", "start"]],
  "8001": ["mysql-login-attempt", ["authentication"], ["start"]],
  "9001": ["mssql-login-attempt", ["authentication"], ["start"], "mssql"],
  "9002": ["mssql-windows-login-attempt", ["authentication"], ["start"], "mssql"],
  "10001": ["tftp-request", ["file"], ["access"]],
  "11001": ["ntp-monlist-request", ["network"], ["connection"]],
  "12001": ["vnc-login-attempt", ["authentication"], ["start"]],
  "13001": ["snmp-request", ["network"], ["connection"]],
  "14001": ["rdp-new-connection", ["network"], ["connection"]],
  "14002": ["rdp-failed-connection", ["network"], ["connection"]],
  "14003": ["rdp-confirmed-connection", ["authentication"], ["start"]],
  "14004": ["rdp-login-attempt", ["authentication"], ["start"]],
  "15001": ["sip-request", ["network"], ["connection"]],
  "16000": ["canarytoken-dns", [], ["info"]],
  "16006": ["canarytoken-windows-dir", [], ["info"]],
  "16008": ["canarytoken-pdf-acrobat-reader", [], ["info"]],
  "16009": ["canarytoken-msword-macro", [], ["info"]],
  "16010": ["canarytoken-msexcel-macro", [], ["info"]],
  "16011": ["canarytoken-sensitive-cmd", [], ["info"]],
  "16012": ["canarytoken-active-directory-login", [], ["info"]],
  "17000": ["canarytoken-http", ["web"], ["access"]],
  "17001": ["canarytoken-web-image", ["web"], ["access"]],
  "17002": ["canarytoken-doc-msword", ["web"], ["access"]],
  "17003": ["canarytoken-cloned-web", ["web"], ["access"]],
  "17004": ["canarytoken-doc-msword", ["web"], ["access"]],
  "17005": ["canarytoken-aws-s3", ["web"], ["access"]],
  "17006": ["canarytoken-google-docs", ["web"], ["access"]],
  "17007": ["canarytoken-google-sheets", ["web"], ["access"]],
  "17008": ["canarytoken-signed-exe", ["web"], ["access"]],
  "17009": ["canarytoken-qr-code", ["web"], ["access"]],
  "17010": ["canarytoken-svn", ["web"], ["access"]],
  "17011": ["canarytoken-sql", ["web"], ["access"]],
  "17012": ["canarytoken-aws-id", ["web"], ["access"]],
  "17016": ["canarytoken-fast-redirect", ["web"], ["access"]],
  "17017": ["canarytoken-slow-redirect", ["web"], ["access"]],
  "17019": ["canarytoken-office365mail", ["web"], ["access"]],
  "17020": ["canarytoken-slack-api", ["web"], ["access"]],
  "17021": ["canarytoken-gmail", ["web"], ["access"]],
  "17022": ["canarytoken-wireguard", [], ["info"]],
  "17023": ["canarytoken-doc-msexcel", ["web"], ["access"]],
  "17024": ["canarytoken-azure-id", ["web"], ["access"]],
  "17025": ["canarytoken-cloned-css", ["web"], ["access"]],
  "17026": ["canarytoken-azure-entra-login", ["web"], ["access"]],
  "17027": ["canarytoken-credit-card", ["web"], ["access"]],
  "17028": ["canarytoken-pwa", ["web"], ["access"]],
  "17029": ["canarytoken-mysql-dump", [], ["info"]],
  "18001": ["modbus-query", ["network"], ["connection"]],
  "18002": ["modbus-read", ["network"], ["connection"]],
  "18003": ["modbus-write", ["network"], ["access", "change"]],
  "19001": ["git-clone-attempt", ["network"], ["access"]],
  "20001": ["tcp-banner-connect", ["network"], ["connection"]],
  "20002": ["tcp-banner-data", ["network"], ["connection"]],
  "20003": ["tcp-keepalive-connect", ["network"], ["connection"]],
  "20004": ["tcp-keepalive-secret", ["network"], ["connection"]],
  "20005": ["tcp-keepalive-data", ["network"], ["connection"]],
  "20006": ["tcp-connection-refused", ["network"], ["connection"]],
  "21001": ["redis-command", ["database"], ["access"]],
  "22001": ["network-settings-rollback", ["host"], ["info"], "notice"],
  "22011": ["network-settings-rollback", ["host"], ["info"], "notice"],
  "23001": ["console-settings-changed", ["configuration"], ["change"], "notice"],
  "23002": ["canary-settings-changed", ["configuration"], ["change"], "notice"],
  "23003": ["flock-settings-changed", ["configuration"], ["change"], "notice"],
  "28001": ["mongo-command", ["database"], ["access"]],
  "28002": ["mongo-authentication-attempt", ["authentication"], ["start"]],
  "29001": ["winrm-login-attempt", ["authentication"], ["start"]],
  "30001": ["local-tampering", ["host"], ["change"]],
  "31001": ["ldap-bind-attempt", ["authentication"], ["start"]],
  "32001": ["tn3270-login-attempt", ["authentication"], ["start"]],
  "111111": ["test-incident", ["host"], ["info"], "notice"]
};

# Every reader below gives nothing for a value it cannot use, and an empty
# string counts as absent, as in canary-transform. opt(f) is f's first value
# or null: an empty stream in an object constructor would drop the object.
def opt(f): [f][0];
def str: select(type == "string" and . != "");
def text: if type == "string" then select(. != "")
  elif type == "number" then tostring
  else empty end;
def blank: . == " " or . == "\t" or . == "\n" or . == "\r";
def trim: if (.[:1] | blank) or (.[-1:] | blank) then sub("^\\s+"; "") | sub("\\s+$"; "")
  else . end;
def digits: length > 0 and all(explode[]; . >= 48 and . <= 57);
# A non-negative integer from a number or a string of digits.
def count:
  if type == "number" then select(. >= 0 and . == floor and . <= 9223372036854775807)
  elif type == "string" then
    (tonumber? // null) as $n
    | if $n != null and ($n | tostring) == . then $n
      else trim | ltrimstr("+") | select(digits) | tonumber end
    | select(. >= 0 and . == floor and . <= 9223372036854775807)
  else empty end;
def port: count | select(. <= 65535);
# Epoch seconds (milliseconds from 10^11 on) as RFC 3339, whole or in ms.
def epoch:
  (if type == "number" then select(. == floor)
   elif type == "string" then trim | ltrimstr("+") | select(digits) | tonumber
   else empty end)
  | select(. > 0)
  | if . >= 100000000000 then
      (. % 1000) as $ms
      | ((. - $ms) / 1000 | select(. < 253402300800) | todate)
      | if $ms == 0 then .
        else rtrimstr("Z") + "." + ("\(1000 + $ms)"[1:] | sub("0+$"; "")) + "Z" end
    else select(. < 253402300800) | todate end;

# IP addresses as Rust reads and writes them: dotted quads without leading
# zeros; IPv6 with at most one "::" and an optional trailing quad, written
# in its canonical form.
def v4: split(".") | length == 4
  and all(.[]; digits and length <= 3 and (length == 1 or .[:1] != "0") and tonumber <= 255);
def hex_digit: if . <= 57 then . - 48 else . - 87 end;
def hex4: ascii_downcase | explode
  | select(length >= 1 and length <= 4
           and all(.[]; (. >= 48 and . <= 57) or (. >= 97 and . <= 102)))
  | reduce .[] as $c (0; . * 16 + ($c | hex_digit));
def groups($quad):
  if . == "" then []
  else split(":") as $g
    | [$g[:-1][] | hex4] as $head
    | select(($head | length) == ($g | length) - 1)
    | $g[-1]
    | if $quad and index(".") then
        select(v4) | split(".") | map(tonumber) | [.[0] * 256 + .[1], .[2] * 256 + .[3]]
      else [hex4] end
    | select(length > 0)
    | $head + .
  end;
def v6:
  index("::") as $i
  | if $i == null then groups(true) | select(length == 8)
    else .[$i + 2:] as $tail
      | select($tail | index("::") | not)
      | (.[:$i] | groups(false)) as $a
      | ($tail | groups(true)) as $b
      | select(($a | length) + ($b | length) <= 7)
      | $a + [range(8 - ($a | length) - ($b | length)) | 0] + $b
    end;
def hex: if . == 0 then "0"
  else [recurse(if . >= 16 then (. / 16 | floor) else empty end) | . % 16]
    | reverse | map("0123456789abcdef"[.:. + 1]) | join("") end;
def v6text:
  . as $s
  | if $s[:6] == [0, 0, 0, 0, 0, 65535] then
      "::ffff:" + ([($s[6] / 256 | floor), $s[6] % 256, ($s[7] / 256 | floor), $s[7] % 256]
                   | map(tostring) | join("."))
    else
      (reduce range(8) as $i ({run: 0, len: 0, at: 0};
        if $s[$i] != 0 then .run = 0
        else .run += 1 | if .run > .len then .len = .run | .at = $i - .run + 1 else . end end))
      as $z
      | if $z.len > 1 then
          ($s[:$z.at] | map(hex) | join(":")) + "::" + ($s[$z.at + $z.len:] | map(hex) | join(":"))
        else $s | map(hex) | join(":") end
    end;
def ip: if index(":") then v6 | v6text elif v4 then . else empty end;

# A host field: the part before a NUL, trimmed, without a port or a
# trailing dot; {ip} when it is an address, else {name}.
def without_port:
  if startswith("[") then .[1:] | (index("]") as $i | if $i then .[:$i] else . end)
  else split(":") as $p | if ($p | length) == 2 and ($p[1] | digits) then $p[0] else . end end;
def host: split("\u0000")[0] // "" | trim | without_port | rtrimstr(".")
  | select(. != "") | (ip | {ip: .}) // {name: .};

# The address in an incident key, incident:<kind>:<hash>:<ip>:<epoch>: what
# lies between the third colon and the epoch (IPv6 has colons of its own).
def key_ip: split(":") as $p
  | select(($p | length) >= 4)
  | (if ($p | length) >= 5 and ($p[-1] | digits) then $p[3:-1] | join(":") | ip else empty end)
    // ($p[3:] | join(":") | ip);

# UTF-8 bytes of a code point, and code points of bytes (an invalid byte
# becomes U+FFFD), for DN hex escapes.
def utf8: if . < 128 then [.]
  elif . < 2048 then [192 + (. / 64 | floor), 128 + . % 64]
  elif . < 65536 then [224 + (. / 4096 | floor), 128 + (. / 64 | floor) % 64, 128 + . % 64]
  else [240 + (. / 262144 | floor), 128 + (. / 4096 | floor) % 64, 128 + (. / 64 | floor) % 64,
        128 + . % 64] end;
def decode_utf8: . as $b
  | [foreach range(length) as $i ({skip: 0};
      if .skip > 0 then .skip -= 1 | .out = null
      else $b[$i] as $c
        | (if $c < 128 then 0 elif $c >= 194 and $c < 224 then 1
           elif $c >= 224 and $c < 240 then 2 elif $c >= 240 and $c < 245 then 3
           else -1 end) as $n
        | if $n >= 0
             and ($b[$i + 1:$i + 1 + $n] | length == $n and all(.[]; . >= 128 and . < 192)) then
            .skip = $n
            | .out = reduce $b[$i + 1:$i + 1 + $n][] as $x
                (if $n == 0 then $c else $c % (64 / pow(2; $n)) end; . * 64 + $x % 64)
          else .out = 65533 end
      end;
      .out | select(. != null))]
  | implode;
# An RFC 4514 value without its quotes and escapes (\, and hex pairs).
def unescape:
  (if length >= 2 and startswith("\"") and endswith("\"") then .[1:-1] else . end)
  | if index("\\") == null then .
    else [scan("\\\\[0-9A-Fa-f]{2}|\\\\[\\s\\S]|[^\\\\]+|\\\\")
          | if length == 3 and .[:1] == "\\" and (.[1:] | test("^[0-9A-Fa-f]{2}$")) then
              .[1:] | ascii_downcase | explode | (.[0] | hex_digit) * 16 + (.[1] | hex_digit)
            elif length == 2 and .[:1] == "\\" then .[1:] | explode[] | utf8[]
            else explode[] | utf8[] end]
      | decode_utf8 end;
# A bind name as {user, domain}: uid beats sAMAccountName beats a leading
# cn; the domain is every dc joined with dots; user@domain and DOMAIN\user.
def dn:
  trim
  | if index("=") == null then
      (if rindex("@") then [.[:rindex("@")], .[rindex("@") + 1:]]
       elif index("\\") then [.[index("\\") + 1:], .[:index("\\")]]
       else [., ""] end)
      | {user: opt(.[0] | str), domain: opt(.[1] | str)}
    else
      (reduce explode[] as $c ({avas: [], at: [], esc: false, q: false};
        if .esc then .esc = false | .at += [$c]
        elif $c == 92 then .esc = true | .at += [$c]
        elif $c == 34 then .q = (.q | not) | .at += [$c]
        elif ($c == 44 or $c == 43 or $c == 59) and (.q | not) then .avas += [.at] | .at = []
        else .at += [$c] end)
       | .avas + [.at] | map(implode | select(index("="))))
      | . as $avas
      | reduce range($avas | length) as $i ({user: null, rank: 0, domain: null};
          ($avas[$i] | index("=")) as $e
          | ($avas[$i][:$e] | trim | ltrimstr("OID.") | ltrimstr("oid.")) as $attr
          | ($avas[$i][$e + 1:] | trim) as $value
          | ($attr | ascii_downcase) as $name
          | (if $name == "uid" or $attr == "0.9.2342.19200300.100.1.1" then 3
             elif $name == "samaccountname" or $attr == "1.2.840.113556.1.4.221" then 2
             elif ($name == "cn" or $attr == "2.5.4.3") and $i == 0 then 1
             elif $name == "dc" or $attr == "0.9.2342.19200300.100.1.25" then 0
             else -1 end) as $rank
          | if $value == "" or $rank < 0 then .
            elif $rank == 0 then
              .domain = (if .domain then .domain + "." else "" end) + ($value | unescape)
            elif $rank > .rank then .rank = $rank | .user = ($value | unescape)
            else . end)
      | {user, domain}
    end;

# A header of `headers` or `HEADERS` in any letter case; SIP lists give
# their first value.
def header($r; $name):
  opt(($r.headers, $r.HEADERS) | objects
      | opt(to_entries[] | select(.key | ascii_downcase == $name)) | select(. != null)
      | .value | str, (arrays | opt(.[] | str) | select(. != null)));

# A record key that is a credential (the query of a built URL hides it).
def credential: ascii_downcase | gsub("[ -]"; "_") as $k
  | ($k | test("password|passwd"))
    or (["pwd", "client_hash", "salt", "key", "private_key", "community_string",
         "server_challenge", "client_response", "vnc_server_challenge", "vnc_client_response",
         "auth_data", "secret", "secret_string", "manage_url", "authorization",
         "proxy_authorization", "cookie", "set_cookie", "x_api_key", "api_key", "apikey",
         "x_auth_token", "x_canary_auth_token", "access_token"] | index([$k]) != null);
def secret_parameter: ascii_downcase | . as $n
  | ["password", "passwd", "pass", "pwd", "secret", "token", "access_token", "api_key", "apikey",
     "auth"]
  | index([$n]) != null;
# application/x-www-form-urlencoded, as the url crate writes a query.
def form: @uri | gsub("%20"; "+") | gsub("!"; "%21") | gsub("~"; "%7E") | gsub("'"; "%27")
  | gsub("\\("; "%28") | gsub("\\)"; "%29") | gsub("%2A"; "*");

# The URL a web Canary was asked for, from its Host header (or HOSTNAME),
# PATH, CHANNEL and a token's request arguments.
def request_url($r):
  ($r.PATH | str | select(startswith("/"))) as $path
  | (header($r; "host") // ($r.HOSTNAME | str)) as $host
  | select($host | test("[/@ ]") | not)
  | (if $r.CHANNEL == "TLS" then "https" else "http" end) + "://" + $host + $path
  | if ($r.request_args | type) == "object" and ($r.request_args | length) > 0
       and ($path | index("?") | not) then
      . + "?" + ([$r.request_args | to_entries[]
                  | (.key | form) + "="
                    + (if .key | credential then "[REDACTED]"
                       elif (.value | type) == "string" then .value
                       else .value | tojson end
                       | form)]
                 | join("&"))
    else . end;

# An absolute URL or a CONNECT target (host:port) as {host, path, secret}.
def link:
  trim
  | (rindex(":") // -1) as $c
  | if $c > 0 and (.[$c + 1:] | ltrimstr("+") | digits and tonumber <= 65535)
       and (.[:$c] | test("[/@?# ]") | not) and (index("://") | not)
       and (.[:$c] | startswith("[") or (index(":") | not)) then
      {host: .[:$c], path: null, secret: false}
    else
      capture("^(?<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?<auth>[^/?#]*)(?<path>[^?#]*)"
              + "(?:\\?(?<query>[^#]*))?")
      | (.scheme | ascii_downcase | IN("http", "https", "ws", "wss", "ftp", "file")) as $special
      | (.auth | rindex("@")) as $at
      | (if $at then .auth[$at + 1:] else .auth end) as $hostport
      | (if $hostport | startswith("[") then $hostport[:($hostport | index("]") // -1) + 1]
         else $hostport | split(":")[0] end) as $host
      | ($hostport[($host | length):]) as $port
      | select($host != "" and ($port == "" or ($port | startswith(":")
               and (.[1:] == "" or (.[1:] | digits and tonumber <= 65535)))))
      # Characters no host may hold; "%" too where it would be decoded.
      | select(($host | startswith("["))
               or ($host | test("[\\x00-\\x20#/<>?@\\[\\\\\\]^|\\x7f]")
                           or ($special and index("%")) | not))
      | {host: (if $special then $host | ascii_downcase else $host end),
         path: (if .path == "" and $special then "/" else .path end),
         secret: ((if $at then .auth[:$at] | (index(":") // -1) as $p | $p >= 0 and .[$p + 1:] != ""
                   else false end)
                  or ((.query // "") | split("&") | any(.[]; split("=")[0] | secret_parameter)))}
    end
  | (.host | if startswith("[") then "[" + (.[1:-1] | ip) + "]" else . end) as $host
  | .host = $host;
def may_hold_credentials: index("@") or (ascii_downcase as $l
  | any(("password", "passwd", "pass", "pwd", "secret", "token", "access_token", "api_key",
         "apikey", "auth");
        . as $n | $l | index($n + "=")));

# Drops nulls and empty groups and lists; with_entries (to_entries and
# from_entries) took most of the program's time in jq 1.6.
def prune: . as $o
  | reduce keys_unsorted[] as $k ({};
      ($o[$k] | if type == "object" then prune else . end) as $v
      | if $v == null or $v == {} or $v == [] then . else .[$k] = $v end);

# Adds an item to a list unless it is there, up to `n` items.
def push(item; n): if item == null or index([item]) or length >= n then . else . + [item] end;

. as $r
| opt($r.logtype | count | tostring | logtypes[.]) as $meaning
| opt($r.src_host | str | host) as $src_given
| opt($r.src_host_reverse | str | host) as $src_reverse
| opt($r.geoip | objects) as $geo
| ($src_given.ip // opt($geo.ip | str | trim | ip) // opt($r.incident_id | str | key_ip)) as $src
| ($src_reverse.name // $src_given.name) as $src_name
| opt(($r.HOST, $r.hostname, $r.HOSTNAME) | str | host) as $asked
| opt($r.dst_host | str | host) as $dst_given
| ($dst_given.ip // $asked.ip) as $dst
| ($asked.name // $dst_given.name) as $dst_name
| opt($r.dst_host_public_ip | str | trim | ip) as $nat
| opt($r.DN | str | dn) as $bind
# Raw values: related.user tells the number 5 from the text "5".
| (opt(($r.USERNAME, $r.user, $r.USER, $r.windows_desktopini_access_username)
      | select([text] != [])) // $bind.user) as $user
| opt($r.USER | select([text] != [])) as $share_user
| (opt(($r.URL, $r.url) | str) // opt(request_url($r))) as $raw_url
| opt($raw_url | strings | link) as $link
| opt($r.PATH | str | split("?")[0] | split("#")[0] | str) as $path
| (if $meaning[3] == "mssql" then opt(($r.HOSTNAME, $r.WORKSTATION) | str) else null end
   // opt(($r.WORKSTATION, $r.REMOTENAME, $r.windows_desktopini_access_computer_name) | str))
  as $client
| opt($link.host | str | host) as $url_host
| (if opt($r.logtype | count) == 5007 then
     [$r | to_entries[]
      | select((.key | ltrimstr("+") | digits and tonumber <= 65535) and (.value | type) == "array")
      | .value[] | str | trim | ip]
   else [] end) as $targets
| opt(($r.cmd, $r.AUDITACTION, $r.CMD, $r.OPCODE, $r.NTP_CMD) | text) as $operation
| opt($r.created | epoch) as $created
| {
    "@timestamp": (opt($r.timestamp | epoch) // $created),
    event: {
      kind: (if $meaning[3] == "notice" then "event" else "alert" end),
      category: (["intrusion_detection"] | reduce ($meaning[1] // [])[] as $c (.; push($c; 4))),
      type: (["denied"] | reduce ($meaning[2] // [])[] as $t (.; push($t; 4))
             | if ($meaning[1] // [] | index(["file"]))
                  and ($r.OPCODE | type == "string" and ascii_downcase == "write")
               then push("change"; 4) else . end),
      code: opt($r.logtype | text),
      reason: opt(($r.summary, $r.description) | text),
      dataset: opt($r.type | text),
      action: ($operation // $meaning[0]),
      start: $created
    },
    observer: {vendor: "Thinkst Canary", product: "Thinkst Canary"},
    source: {
      address: ($src_name // $src),
      ip: $src,
      port: opt($r.src_port | port),
      domain: $src_name,
      geo: {
        city_name: opt($geo.city | text),
        continent_code: opt($geo.continent_code | text),
        timezone: opt($geo.timezone | if type == "object" then .id | text else text end)
      }
    },
    destination: {
      address: ($dst_name // $dst),
      ip: $dst,
      domain: $dst_name,
      port: opt($r.dst_port | port),
      nat: {ip: $nat}
    },
    user: {
      name: opt($user | text),
      domain: ($bind.domain
        // opt(($r.DOMAIN, $r.DOMAINNAME, $r.windows_desktopini_access_domain) | text))
    },
    user_agent: {original: opt(($r.USERAGENT | str), header($r; "user-agent"))},
    url: {
      path: ($path // opt($link.path | str)),
      original: (if $raw_url == null then null
                 elif $link == null then
                   (if $raw_url | may_hold_credentials then null else $raw_url end)
                 elif $link.secret then null
                 else $raw_url end)
    },
    http: {
      request: {method: opt($r.METHOD | text)},
      response: {status_code: opt($r.RESPONSE | count | select(. >= 100 and . <= 599))}
    },
    tls: {established:
      (if $r.CHANNEL | type == "string" and ascii_downcase == "tls" then true else null end)},
    process: {name: opt($r.APPNAME | text)},
    file: {name: opt($r.FILENAME | text), size: opt($r.SIZE | count)},
    action: {properties: {
      ShareName: opt($r.SHARENAME | text),
      Domain: opt($r.DOMAIN | text),
      UserName: opt($share_user | text)
    }},
    related: {
      ip: ([] | push($src; 16) | push($dst; 16) | push($nat; 16)
           | reduce $targets[] as $t (.; push($t; 16)) | push($url_host.ip; 16)),
      hosts: ([] | push($src_name; 4) | push($dst_name; 4) | push($client; 4)
              | push($url_host.name; 4)),
      user: ([] | push($user; 3) | push($share_user; 3) | map(text))
    },
    thinkst_canary: {
      incident_id: opt($r.incident_id | str),
      canary_token: opt($r.canarytoken | text),
      smbarch: opt($r.SMBARCH | text),
      smbver: opt($r.SMBVER | text),
      db: opt($r.db | text),
      repo: opt($r.REPO | text),
      ports: opt($r.ports | text)
    }
  }
| prune
