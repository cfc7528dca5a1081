//! Remote support: which operating system a visitor's browser runs on (from the User-Agent), so the
//! invitation page can offer the matching download of the provider's quick-support tool first.

use serde::Serialize;

/// The operating systems the provider offers a download for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientOs {
    Windows,
    MacOs,
    Linux,
    Ios,
    Android,
}

impl ClientOs {
    pub const ALL: [ClientOs; 5] = [Self::Windows, Self::MacOs, Self::Linux, Self::Ios, Self::Android];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Windows => "windows",
            Self::MacOs => "macos",
            Self::Linux => "linux",
            Self::Ios => "ios",
            Self::Android => "android",
        }
    }

    /// The stored code ([`Self::as_str`]) back as a system; `None` for anything else.
    pub fn parse(code: &str) -> Option<ClientOs> {
        Self::ALL.into_iter().find(|os| os.as_str() == code)
    }

    /// The system's proper name, as people write it (`macOS`, not `macos`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Windows => "Windows",
            Self::MacOs => "macOS",
            Self::Linux => "Linux",
            Self::Ios => "iOS / iPadOS",
            Self::Android => "Android",
        }
    }

    /// Detects the operating system from a User-Agent header. Order matters: Android's UA says "Linux",
    /// iOS's says "like Mac OS X", and Windows Phone's says "Android"; Chrome OS is not offered (`None`).
    pub fn detect(user_agent: &str) -> Option<ClientOs> {
        let ua = user_agent.to_ascii_lowercase();
        if ua.contains("windows phone") || ua.contains("cros") {
            return None;
        }
        if ua.contains("iphone") || ua.contains("ipad") || ua.contains("ipod") {
            Some(Self::Ios)
        } else if ua.contains("android") {
            Some(Self::Android)
        } else if ua.contains("windows") {
            Some(Self::Windows)
        } else if ua.contains("macintosh") || ua.contains("mac os x") {
            Some(Self::MacOs)
        } else if ua.contains("linux") || ua.contains("x11") {
            Some(Self::Linux)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn real_user_agents() {
        let cases = [
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", Some(ClientOs::Windows)),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0", Some(ClientOs::Windows)),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", Some(ClientOs::MacOs)),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", Some(ClientOs::Linux)),
            ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", Some(ClientOs::Linux)),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", Some(ClientOs::Ios)),
            ("Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.7 Mobile/15E148 Safari/604.1", Some(ClientOs::Ios)),
            ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36", Some(ClientOs::Android)),
            ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36", None),
            ("curl/8.5.0", None),
            ("", None),
        ];
        for (ua, os) in cases {
            assert_eq!(ClientOs::detect(ua), os, "{ua}");
        }
    }

    #[test]
    fn codes_round_trip_and_labels_are_proper_names() {
        for os in ClientOs::ALL {
            assert_eq!(ClientOs::parse(os.as_str()), Some(os));
        }
        assert_eq!(ClientOs::parse("macos").map(ClientOs::label), Some("macOS"));
        assert_eq!(ClientOs::parse("MacOS"), None);
        assert_eq!(ClientOs::parse(""), None);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = ClientOs::detect(&s);
        }
    }
}
