//! The person at the terminal in a guided run: the face's side of
//! [`Person`]. The steps ask and wait; only here is anything printed.

use std::time::Duration;

use futures::future::BoxFuture;

use crate::output;
use crate::steps::target::{Decision, Person};
use crate::steps::StepError;

/// The person at the terminal: a QR code, the link, and a countdown on stderr.
pub struct TerminalPerson;

impl Person for TerminalPerson {
    fn ask<'a>(
        &'a self,
        decision: Decision,
        reference: &'a str,
        link: &'a str,
    ) -> BoxFuture<'a, Result<(), StepError>> {
        Box::pin(async move {
            let what = match decision {
                Decision::Approve => "APPROVE",
                Decision::Reject => "REJECT",
            };
            let qr = qrcode::QrCode::new(link.as_bytes())
                .map(|code| {
                    code.render::<qrcode::render::unicode::Dense1x2>()
                        .quiet_zone(true)
                        .build()
                })
                .unwrap_or_default();
            output::diag(&format!(
                "\n  Please {what} payment {reference} in the app within 10 minutes:\n{qr}\n  {link}\n"
            ));
            Ok(())
        })
    }

    fn waiting(&self, reference: &str, verb: &str, left: Duration) {
        let left = left.as_secs();
        output::diag(&format!(
            "  {}:{:02} left to {verb} {reference} in the app",
            left / 60,
            left % 60
        ));
    }
}
