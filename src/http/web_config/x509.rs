//! The few facts about a client certificate that the web config needs and rustls does not
//! expose: its subject alternative names, whether it may authenticate a client, and whether
//! it is valid now. A DER reader, bounds-checked, for certificates that rustls has already
//! parsed; anything it cannot read counts as absent.

use rustls_pki_types::UnixTime;

const SEQUENCE: u8 = 0x30;
const EXTENSIONS: u8 = 0xa3;
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
const OID_EXTENDED_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
const OID_CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];
const OID_ANY_EXTENDED_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25, 0x00];

/// One DER element: its tag, its content, and what follows it.
fn element(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        let length = bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
        (length, rest)
    };
    (rest.len() >= length).then(|| (tag, &rest[..length], &rest[length..]))
}

/// The elements of a constructed value, in order.
fn elements(mut input: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        let (tag, content, rest) = element(input)?;
        input = rest;
        Some((tag, content))
    })
}

/// The fields of `tbsCertificate`, in order.
fn tbs_fields(der: &[u8]) -> Vec<(u8, &[u8])> {
    let Some((SEQUENCE, certificate, _)) = element(der) else {
        return Vec::new();
    };
    let Some((SEQUENCE, tbs, _)) = element(certificate) else {
        return Vec::new();
    };
    elements(tbs).collect()
}

/// The value of the extension `oid`, if the certificate has it.
fn extension<'a>(der: &'a [u8], oid: &[u8]) -> Option<&'a [u8]> {
    let (_, extensions) = tbs_fields(der)
        .into_iter()
        .find(|(tag, _)| *tag == EXTENSIONS)?;
    let (_, list, _) = element(extensions)?;
    elements(list).find_map(|(_, ext)| {
        let mut parts = elements(ext);
        let (_, id) = parts.next()?;
        let (_, value) = parts.find(|(tag, _)| *tag == 0x04)?;
        (id == oid).then_some(value)
    })
}

/// DNS names, email addresses, IP addresses and URIs, as exporter-toolkit lists them for
/// `client_allowed_sans`.
pub fn subject_alt_names(der: &[u8]) -> Vec<String> {
    let Some((SEQUENCE, names, _)) = extension(der, OID_SUBJECT_ALT_NAME).and_then(element) else {
        return Vec::new();
    };
    elements(names)
        .filter_map(|(tag, value)| match tag {
            // rfc822Name, dNSName, uniformResourceIdentifier
            0x81 | 0x82 | 0x86 => std::str::from_utf8(value).ok().map(str::to_string),
            // iPAddress
            0x87 => match value.len() {
                4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(value).ok()?).to_string()),
                16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(value).ok()?).to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Whether the certificate may authenticate a TLS client: no extended key usage, or one
/// that lists client authentication or any usage (Go's rule).
pub fn allows_client_auth(der: &[u8]) -> bool {
    let Some(usages) = extension(der, OID_EXTENDED_KEY_USAGE) else {
        return true;
    };
    let Some((SEQUENCE, list, _)) = element(usages) else {
        return false;
    };
    elements(list).any(|(_, oid)| oid == OID_CLIENT_AUTH || oid == OID_ANY_EXTENDED_KEY_USAGE)
}

/// Whether `now` lies within the certificate's validity period.
pub fn valid_at(der: &[u8], now: UnixTime) -> bool {
    // version [0] is optional; validity is the third field after the serial number.
    let fields = tbs_fields(der);
    let after_version = match fields.first() {
        Some((0xa0, _)) => &fields[1..],
        _ => &fields[..],
    };
    let Some((SEQUENCE, validity)) = after_version.get(3) else {
        return false;
    };
    let mut times = elements(validity).map(|(tag, text)| time(tag, text));
    let (Some(Some(not_before)), Some(Some(not_after))) = (times.next(), times.next()) else {
        return false;
    };
    let now = now.as_secs();
    not_before <= now && now <= not_after
}

/// Seconds since the Unix epoch of a UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime
/// (`YYYYMMDDHHMMSSZ`).
fn time(tag: u8, text: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(text).ok()?.strip_suffix('Z')?;
    let (year, rest) = match (tag, text.len()) {
        (0x17, 12) => {
            let yy: u64 = text[..2].parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &text[2..])
        }
        (0x18, 14) => (text[..4].parse().ok()?, &text[4..]),
        _ => return None,
    };
    let field = |i: usize| -> Option<u64> { rest.get(i..i + 2)?.parse().ok() };
    let (month, day) = (field(0)?, field(2)?);
    let (hour, minute, second) = (field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), for years from 1970.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let year_of_era = y - era * 400;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = (era * 146_097 + day_of_era).checked_sub(719_468)?;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}
