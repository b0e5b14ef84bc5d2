//! Scrape-start lag and missed scrapes, from the arrival times the simulator recorded.
//!
//! Every scraper gives each target a fixed phase inside the interval and then scrapes at
//! `phase + k * interval`; we do not know the phase it chose, so we estimate it. Each
//! arrival's deviation from the target's first arrival is folded into (-I/2, I/2]; a scrape
//! can start late but never early, so the smallest deviation is taken as the on-time point
//! (the phase) and each scrape's lag is its deviation minus that minimum. A slot counts as
//! missed when no scrape arrived in [slot, slot + I/2); slots are checked from the window
//! start up to half an interval before its end, so a scrape in flight at the end is not
//! counted as missed. The estimate reads 0 lag for a scraper that is late by the same amount
//! every time (harmless: a constant offset is a phase), and it is biased high by at most the
//! smallest lag of the window.

/// Lags (ms) and missed slots of one target over a window.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TargetSchedule {
    pub lags_ms: Vec<f64>,
    pub missed: u64,
}

/// Analyzes one target's arrival times (µs, any order) over the window [start, end) (µs).
pub fn analyze(times: &[u64], interval_us: u64, start: u64, end: u64) -> TargetSchedule {
    let iv = interval_us.max(1) as i64;
    let checkable_end = end.saturating_sub(interval_us / 2);
    let mut t: Vec<i64> = times.iter().map(|&x| x as i64).collect();
    t.sort_unstable();
    let Some(&t0) = t.first() else {
        let slots = checkable_end.saturating_sub(start) / interval_us.max(1);
        return TargetSchedule {
            lags_ms: Vec::new(),
            missed: slots,
        };
    };
    let fold = |x: i64| {
        let d = (x - t0).rem_euclid(iv);
        if d > iv / 2 {
            d - iv
        } else {
            d
        }
    };
    let min_dev = t.iter().map(|&x| fold(x)).min().unwrap_or(0);
    let lags_ms = t
        .iter()
        .map(|&x| (fold(x) - min_dev) as f64 / 1000.0)
        .collect();
    // The estimated on-time slots: t0 + min_dev + k * iv, from the window start.
    let phase = (t0 + min_dev).rem_euclid(iv);
    let (start, checkable_end) = (start as i64, checkable_end as i64);
    let mut slot = start - start.rem_euclid(iv) + phase;
    if slot < start {
        slot += iv;
    }
    let mut missed = 0;
    let mut j = 0;
    while slot < checkable_end {
        while j < t.len() && t[j] < slot - iv / 4 {
            j += 1;
        }
        let hit = t.get(j).is_some_and(|&x| x < slot + iv / 2);
        if !hit {
            missed += 1;
        }
        slot += iv;
    }
    TargetSchedule { lags_ms, missed }
}

/// The q-quantile (0..=1) of `v` by nearest rank; NaN when empty.
pub fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000;

    #[test]
    fn schedules() {
        // (arrivals in seconds offsets + µs lags, window, want missed, want max lag ms)
        let iv = 10 * S;
        let base = 1_000 * S;
        let on_time: Vec<u64> = (0..6).map(|k| base + 3 * S + k * iv).collect();
        let check = |times: &[u64], want_missed: u64, want_max_lag: f64| {
            let s = analyze(times, iv, base, base + 60 * S);
            assert_eq!(s.missed, want_missed, "{times:?}");
            let max = s.lags_ms.iter().cloned().fold(0.0, f64::max);
            assert!((max - want_max_lag).abs() < 1e-6, "{max} {times:?}");
        };
        check(&on_time, 0, 0.0);
        let mut late = on_time.clone();
        late[2] += 40_000;
        check(&late, 0, 40.0);
        let mut gap = on_time.clone();
        gap.remove(3);
        check(&gap, 1, 0.0);
        check(&[], 5, 0.0);
        // A phase near the interval's edge: arrivals straddle the fold point.
        let edge: Vec<u64> = (0..6)
            .map(|k| base + 9 * S + 999_000 + k * iv + if k % 2 == 0 { 2_000 } else { 0 })
            .collect();
        check(&edge, 0, 2.0);
    }

    #[test]
    fn quantiles() {
        let mut v = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(quantile(&mut v, 0.5), 3.0);
        assert_eq!(quantile(&mut v, 0.99), 5.0);
        assert!(quantile(&mut [], 0.5).is_nan());
    }
}
