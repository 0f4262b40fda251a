//! `[capabilities]`: network hosts, environment variables, readable directories, switches.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde_spanned::Spanned;

use super::cx::Cx;
use super::diag::{show, Problem};
use super::raw::RawCapabilities;
use super::{Capabilities, HostPattern};

/// The longest DNS name, in bytes.
const MAX_HOST_LEN: usize = 253;

pub(crate) fn validate(cx: &mut Cx<'_, '_>, raw: RawCapabilities) -> Capabilities {
    let network = raw.network.map(|network| {
        let table = network.span();
        let path = ["capabilities", "network", "hosts"];
        let hosts = cx.required(network.into_inner().hosts, &path, table, || {
            "list the hosts the plugin may call, like \
             `network = { hosts = [\"api.example.com\"] }`"
                .into()
        });
        let hosts = hosts.map(|h| cx.list(h, &path)).unwrap_or_default();
        hosts.iter().filter_map(|h| host(cx, h)).collect()
    });
    let path = ["capabilities", "env"];
    let env = cx.optional(raw.env, &path).map(|l| cx.list(l, &path));
    let env = env
        .unwrap_or_default()
        .iter()
        .filter_map(|name| env_var(cx, name))
        .collect();
    let path = ["capabilities", "fs-read"];
    let fs_read = cx.optional(raw.fs_read, &path).map(|l| cx.list(l, &path));
    let fs_read = fs_read
        .unwrap_or_default()
        .iter()
        .filter_map(|dir| relative_dir(cx, dir))
        .collect();
    let mut flag = |field, key| {
        cx.optional(field, &["capabilities", key])
            .is_some_and(Spanned::into_inner)
    };
    Capabilities {
        network,
        env,
        fs_read,
        storage: flag(raw.storage, "storage"),
        traces: flag(raw.traces, "traces"),
        embeddings: flag(raw.embeddings, "embeddings"),
    }
}

fn host(cx: &mut Cx<'_, '_>, raw: &Spanned<String>) -> Option<HostPattern> {
    match parse_host_pattern(raw.get_ref()) {
        Ok(pattern) => Some(pattern),
        Err((reason, help)) => {
            cx.error(
                raw.span(),
                format!("invalid network host `{}`: {reason}", show(raw.get_ref())),
                help,
            );
            None
        }
    }
}

/// `api.example.com`, `*.example.com`, `127.0.0.1:8080`, `[::1]`: a host with an optional
/// port and nothing else. The error is the rule broken and, where there is one, the fix.
pub(crate) fn parse_host_pattern(s: &str) -> Result<HostPattern, Problem> {
    let fail = |reason: &str, help: Option<String>| Err((reason.to_string(), help));
    if s.is_empty() {
        return fail("a host cannot be empty", None);
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return fail(
            "a host cannot contain whitespace or control characters",
            None,
        );
    }
    let bare = bare_host(s);
    let write_bare = || (bare != s && !bare.is_empty()).then(|| format!("write `{bare}`"));
    if s.contains("://") {
        return fail("a host has no scheme", write_bare());
    }
    if s.contains('@') {
        return fail("a host has no user name or password", write_bare());
    }
    if s.contains(['/', '?', '#']) {
        return fail("a host has no path, query or fragment", write_bare());
    }
    if s == "*" || s.starts_with("*:") {
        return fail(
            "`*` would allow every host",
            Some(
                "list each host the plugin calls; `*.example.com` allows the subdomains of one"
                    .into(),
            ),
        );
    }

    let (host, port) = split_port(s)?;
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => return fail(&format!("invalid port `{}`", show(p)), None),
            Ok(p) => Some(p),
        },
    };

    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return match inner.parse::<Ipv6Addr>() {
            Ok(ip) => Ok(HostPattern {
                host: format!("[{ip}]"),
                wildcard: false,
                port,
            }),
            Err(_) => fail("invalid IPv6 address", None),
        };
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(HostPattern {
            host: ip.to_string(),
            wildcard: false,
            port,
        });
    }

    let (wildcard, name) = match host.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, host),
    };
    if name.contains('*') {
        return fail(
            "a wildcard is only allowed as the whole first label, like `*.example.com`",
            None,
        );
    }
    if !name.is_ascii() {
        return fail(
            "write an internationalised name in its ASCII (punycode) form, like `xn--bcher-kva.example`",
            None,
        );
    }
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    dns_name(&name).map_err(|reason| (reason, None))?;
    if wildcard && name.split('.').count() < 2 {
        return fail(
            "a wildcard needs at least two labels after it, like `*.example.com`",
            None,
        );
    }
    Ok(HostPattern {
        host: name,
        wildcard,
        port,
    })
}

/// The host part of something URL-shaped, for the help line: `https://u@x.com:1/p` -> `x.com:1`.
fn bare_host(s: &str) -> &str {
    let s = s.split_once("://").map_or(s, |(_, rest)| rest);
    let s = s.split(['/', '?', '#']).next().unwrap_or(s);
    s.rsplit_once('@').map_or(s, |(_, host)| host)
}

/// Split `host:port`; an IPv6 address needs its brackets for this to be unambiguous.
fn split_port(s: &str) -> Result<(&str, Option<&str>), Problem> {
    if s.starts_with('[') {
        let Some(end) = s.find(']') else {
            return Err(("an IPv6 address needs its closing `]`".into(), None));
        };
        let (host, rest) = s.split_at(end + 1);
        return match rest.strip_prefix(':') {
            Some(port) => Ok((host, Some(port))),
            None if rest.is_empty() => Ok((host, None)),
            None => Err(("unexpected text after the IPv6 address".into(), None)),
        };
    }
    match s.split_once(':') {
        Some((_, rest)) if rest.contains(':') => Err((
            "an IPv6 address goes in brackets".into(),
            Some(format!("write `[{s}]`")),
        )),
        Some((host, port)) => Ok((host, Some(port))),
        None => Ok((s, None)),
    }
}

/// A lowercase DNS name: labels of letters, digits and inner hyphens.
fn dns_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a host cannot be empty".into());
    }
    if name.len() > MAX_HOST_LEN {
        return Err(format!("a host name is at most {MAX_HOST_LEN} bytes"));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("a host name cannot have an empty label (`..`)".into());
        }
        if label.len() > 63 {
            return Err("a label of a host name is at most 63 bytes".into());
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(format!(
                "a host name holds only letters, digits, `-` and `.`, not {c:?}"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label of a host name cannot start or end with `-`".into());
        }
    }
    // `1.2.3` or `0x7f.1` would read as an IPv4 address in a URL: refuse the ambiguity.
    if name
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()) || tld.starts_with("0x"))
    {
        return Err("the last label of a host name cannot be a number".into());
    }
    Ok(())
}

fn env_var(cx: &mut Cx<'_, '_>, name: &Spanned<String>) -> Option<String> {
    let value = name.get_ref();
    let valid = value.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        return Some(value.clone());
    }
    cx.error(
        name.span(),
        format!(
            "invalid environment variable name `{}`: a name holds only ASCII letters, digits \
             and `_`, and does not start with a digit",
            show(value)
        ),
        None,
    );
    None
}

/// A directory under the plugin's data dir: relative, `/`-separated, never climbing out.
/// Returned normalised: no `.` components, no trailing `/`, `.` for the data dir itself.
fn relative_dir(cx: &mut Cx<'_, '_>, path: &Spanned<String>) -> Option<String> {
    match normalise_relative(path.get_ref()) {
        Ok(normal) => Some(normal),
        Err((reason, help)) => {
            cx.error(
                path.span(),
                format!(
                    "invalid `fs-read` path `{}`: {reason}",
                    show(path.get_ref())
                ),
                help,
            );
            None
        }
    }
}

pub(super) fn normalise_relative(s: &str) -> Result<String, Problem> {
    let fail = |reason: &str, help: Option<&str>| Err((reason.into(), help.map(String::from)));
    if s.is_empty() {
        return fail(
            "a path cannot be empty",
            Some("write `.` for the whole data directory"),
        );
    }
    if s.chars().any(char::is_control) {
        return fail("a path cannot contain control characters", None);
    }
    if s.contains('\\') {
        return fail("write paths with `/`, not `\\`", None);
    }
    let bytes = s.as_bytes();
    if s.starts_with('/')
        || (bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':')
    {
        return fail(
            "a path is relative to the plugin's data directory, not absolute",
            None,
        );
    }
    let mut parts = Vec::new();
    for part in s.split('/') {
        match part {
            "" | "." => {}
            ".." => return fail("a path cannot climb out with `..`", None),
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return Ok(".".into());
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        parse_host_pattern(s).map(|p| p.to_string()).unwrap()
    }

    fn err(s: &str) -> String {
        parse_host_pattern(s).unwrap_err().0
    }

    #[test]
    fn hosts_are_normalised() {
        assert_eq!(ok("API.OpenAI.com"), "api.openai.com");
        assert_eq!(ok("*.example.com"), "*.example.com");
        assert_eq!(ok("localhost:8080"), "localhost:8080");
        assert_eq!(ok("127.0.0.1"), "127.0.0.1");
        assert_eq!(ok("[::1]:443"), "[::1]:443");
        assert_eq!(ok("[0:0::1]"), "[::1]");
        assert_eq!(ok("example.com."), "example.com");
    }

    #[test]
    fn bad_hosts_are_refused() {
        assert_eq!(err("https://x.com"), "a host has no scheme");
        assert_eq!(err("x.com/path"), "a host has no path, query or fragment");
        assert_eq!(err("user@x.com"), "a host has no user name or password");
        assert_eq!(err("*"), "`*` would allow every host");
        assert!(err("*.com").contains("two labels"));
        assert!(err("a.*.com").contains("wildcard"));
        assert!(err("x.com:0").contains("port"));
        assert!(err("x.com:99999").contains("port"));
        assert!(err("::1").contains("brackets"));
        assert!(err("1.2.3").contains("number"));
        assert!(err("a..b").contains("empty label"));
        assert!(err("-a.com").contains("`-`"));
        assert!(err("a b").contains("whitespace"));
        assert!(err("bücher.de").contains("punycode"));
        assert!(err("[::1").contains("`]`"));
    }

    #[test]
    fn paths_stay_inside() {
        assert_eq!(normalise_relative("data/").unwrap(), "data");
        assert_eq!(normalise_relative("./a//b").unwrap(), "a/b");
        assert_eq!(normalise_relative(".").unwrap(), ".");
        for bad in ["", "/etc", "C:/x", "a/../../b", "..", "a\\b", "a\nb"] {
            assert!(normalise_relative(bad).is_err(), "{bad:?}");
        }
    }
}
