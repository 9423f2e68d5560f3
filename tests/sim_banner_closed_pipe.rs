//! The standalone simulator's banner never panics it: a closed stdout
//! (`vipps-golive simulator | head -1`) leaves the server running.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_closed_stdout_leaves_the_simulator_serving() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vipps-golive"))
        .args(["simulator", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the simulator");
    // Close the reading end before the banner is written, like `| head -0`.
    drop(child.stdout.take());
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut exited = None;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("poll the child") {
            exited = Some(status);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    assert!(
        exited.is_none(),
        "the simulator exited ({exited:?}) when its stdout closed: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
