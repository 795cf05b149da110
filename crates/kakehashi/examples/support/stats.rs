//! Latency percentiles for the load drivers (`login_load`, `lti_launch_load`, `xapi_load`).

use std::time::Duration;

/// The `p` percentile (0–1, nearest rank) of `sorted` latencies in milliseconds; NaN when
/// there are none.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}
