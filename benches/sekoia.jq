# The Sekoia-parity part of canary-transform's mapping, as a jq program, for
# benches/compare.sh: what a user would otherwise write in a shell pipe.
# One flat Canary record in, one ECS object out. It does what Sekoia's intake
# parser does (field moves, epoch times, the source address from the incident
# key, the DN's domain, related lists); it parses no user agents or domains.
#
#   jq -c -f benches/sekoia.jq records.ndjson

def present: select(. != null and . != "");
# The first non-empty value f gives, or null: an empty stream inside an
# object constructor would drop the whole object.
def one(f): [f | present][0];
def iso: (if type == "string" then tonumber? else . end) | select(type == "number") | floor | todate;
def port: (if type == "string" then tonumber? else . end)
          | select(type == "number" and . >= 0 and . <= 65535) | floor;
def ip: select(type == "string" and test("^[0-9.]+$|^[0-9a-fA-F:]+$"));
def key_ip: (.incident_id // "") | split(":") | if length >= 5 then .[-2] | ip else empty end;
# Drops nulls and empty groups and lists; with_entries (to_entries and
# from_entries) took most of the program's time in jq 1.6.
def prune: . as $o
  | reduce keys_unsorted[] as $k ({};
      ($o[$k] | if type == "object" then prune else . end) as $v
      | if $v == null or $v == {} or $v == [] then . else .[$k] = $v end);

. as $r
| one(($r.src_host | ip), ($r | key_ip)) as $src
| one($r.dst_host | ip) as $dst
| one($r.HOST, $r.hostname, $r.HOSTNAME) as $asked
| one($r.USERNAME, $r.user, $r.USER) as $user
| {
    "@timestamp": one($r.timestamp | iso),
    event: {
      kind: (if $r.event_type == "incident" then "alert" else null end),
      category: ["intrusion_detection"],
      type: ["denied"],
      code: one($r.logtype | present | tostring),
      reason: one($r.summary, $r.description),
      dataset: one($r.type),
      action: one($r.cmd, $r.AUDITACTION),
      start: one($r.created | iso)
    },
    observer: {vendor: "Thinkst Canary", product: "Thinkst Canary"},
    source: {
      address: $src,
      ip: $src,
      port: one($r.src_port | port),
      domain: one($r.src_host_reverse),
      geo: {
        city_name: one($r.geoip.city?),
        continent_code: one($r.geoip.continent_code?),
        timezone: one($r.geoip.timezone.id?)
      }
    },
    destination: {
      address: one($asked, $dst),
      ip: $dst,
      domain: $asked,
      port: one($r.dst_port | port),
      nat: {ip: one($r.dst_host_public_ip | ip)}
    },
    user: {
      name: $user,
      domain: one($r.DN | strings | ascii_downcase | [scan("dc=([^,]+)") | .[0]] | join("."))
    },
    user_agent: {original: one($r.USERAGENT, $r.headers["User-Agent"]?)},
    url: {path: one($r.PATH), original: one($r.URL)},
    http: {
      request: {method: one($r.METHOD)},
      response: {status_code: one($r.RESPONSE | port)}
    },
    tls: {established: (if $r.CHANNEL == "TLS" then true else null end)},
    process: {name: one($r.APPNAME)},
    file: {name: one($r.FILENAME), size: one($r.SIZE | port)},
    action: {properties: {
      ShareName: one($r.SHARENAME),
      Domain: one($r.DOMAIN),
      UserName: one($r.USER)
    }},
    related: {
      ip: ([$src, $dst] | map(present) | unique),
      hosts: ([$asked, $r.src_host_reverse] | map(present) | unique),
      user: ([$user] | map(present))
    },
    thinkst_canary: {
      incident_id: $r.incident_id,
      canary_token: one($r.canarytoken),
      smbarch: one($r.SMBARCH),
      smbver: one($r.SMBVER),
      db: one($r.db),
      repo: one($r.REPO),
      ports: one($r.ports)
    }
  }
| prune
