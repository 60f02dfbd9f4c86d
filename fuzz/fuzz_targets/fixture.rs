//! The directory every fuzz target routes against: account `demo` with endpoint `img`, an alias
//! domain, a one-to-one domain for `img`, and public hosts (`public.test`, and any other host of
//! even length, so the fuzzer reaches both answers).

use pixelway_route::{Directory, DomainTarget};

pub struct Fixture;

impl Directory for Fixture {
    fn custom_domain(&self, host: &str) -> Option<DomainTarget> {
        match host {
            "alias.test" => Some(DomainTarget::Alias {
                account: "demo".into(),
            }),
            "one.test" => Some(DomainTarget::Endpoint {
                account: "demo".into(),
                identifier: "img".into(),
            }),
            _ => None,
        }
    }
    fn is_public_host(&self, host: &str) -> bool {
        host == "public.test" || host.len() % 2 == 0
    }
    fn has_account(&self, account: &str) -> bool {
        account == "demo"
    }
    fn has_endpoint(&self, account: &str, identifier: &str) -> bool {
        account == "demo" && identifier == "img"
    }
}
