//! `vipps-golive verify`: judge references the shop's own system made.

use crate::cli::VerifyArgs;
use crate::Error;

/// Reads each reference through GET and the event log and judges them
/// against GL-TEST (or GL-PROD with `--prod`).
///
/// Example: `vipps-golive verify --env test shop-1001-a shop-1002-a shop-1003-a`
pub fn run(args: &VerifyArgs) -> Result<(), Error> {
    super::block_on(crate::runner::verify::run(args))
}
