//! The image observation a learned policy sees: DeepRM's `repre='image'` state.
//!
//! Source: DeepRM `Env.observe` (Mao et al., HotNets 2016, section 3.1, figure 2; our description
//! in `SEMANTICS.md` section 3, "Image state"). The image has [`IMAGE_ROWS`] `= T = 20` rows, row 0
//! being the current time step, and [`image_width`]`(M)` columns, laid out left to right as:
//!
//! ```text
//! [ cluster r0 | slot 0 .. slot M-1, r0 | cluster r1 | slot 0 .. slot M-1, r1 | backlog | since new ]
//!   RES_UNITS    MAX_JOB_SIZE each        RES_UNITS    MAX_JOB_SIZE each         3         1
//! ```
//!
//! * **Cluster** (resource `r`, row `t`): the first `RES_UNITS - avbl[t][r]` columns are 1.0,
//!   the rest 0.0. DeepRM paints every allocated job with its own random colour in `(0, 1)` on a
//!   canvas whose free cells can be fragmented; whitebox marks occupied cells with 1.0, packed to
//!   the left. The image is therefore a deterministic function of the free capacity, with no
//!   random state (`docs/deeprm-differences.md`).
//! * **Job slot** `j`, resource `r`: 1.0 in rows `0..len` and columns `0..demand[r]` of its block;
//!   an empty slot is all zero.
//! * **Backlog**: `3 = BACKLOG / T` columns filled row-major from the top, one cell per waiting
//!   job (the first `n / 3` rows full, the next row `n % 3` cells).
//! * **Since new**: one column holding `since_last_new / MAX_TRACK_SINCE_NEW` in every row.
//!
//! Every value is in `[0, 1]`, and each one is 0.0, 1.0 or `k / 10` computed by one
//! correctly rounded `f32` division, so every target produces the same bits. The output is
//! row-major: cell `(t, c)` is at index `t * image_width(M) + c`.
//!
//! [`encode_image`] writes every cell; [`update_image`] keeps a buffer up to date by rewriting
//! only the cells that changed since the state it last showed (the same bits, a few cells per
//! step instead of `20 * W`). Learned policies use the latter ([`crate::encoding::Image`]).

use crate::cluster::Cluster;
use crate::spec::{BACKLOG, HORIZON, MAX_JOB_SIZE, MAX_TRACK_SINCE_NEW, NUM_RES, RES_UNITS};

mod update;

pub use update::{update_image, ImageMemo};

/// Rows of the image: the time horizon `T`, row 0 being the current time step.
pub const IMAGE_ROWS: usize = HORIZON;

/// Columns of the backlog block: `BACKLOG / T` (DeepRM `backlog_width`), so the block holds
/// exactly the backlog capacity.
pub const BACKLOG_WIDTH: usize = BACKLOG / HORIZON;

const CLUSTER_WIDTH: usize = RES_UNITS as usize;

// The backlog block must hold the whole backlog, and a job's demand must fit in a slot block.
const _: () = assert!(BACKLOG_WIDTH * HORIZON == BACKLOG);
const _: () = assert!(RES_UNITS as usize <= MAX_JOB_SIZE);

/// Columns used by one resource: its cluster columns and one block per job slot.
pub const fn resource_block_width(m: usize) -> usize {
    CLUSTER_WIDTH + MAX_JOB_SIZE * m
}

/// Columns of the image for `m` job slots: `(RES_UNITS + MAX_JOB_SIZE * m) * d + 3 + 1`
/// (DeepRM `network_input_width`): 124 for `m = 5`, 224 for `m = 10`.
pub const fn image_width(m: usize) -> usize {
    resource_block_width(m) * NUM_RES + BACKLOG_WIDTH + 1
}

/// Number of `f32` values in the image for `m` job slots: `IMAGE_ROWS * image_width(m)`.
pub const fn image_len(m: usize) -> usize {
    IMAGE_ROWS * image_width(m)
}

/// First column of resource `r`'s cluster part.
pub const fn cluster_column(m: usize, r: usize) -> usize {
    r * resource_block_width(m)
}

/// First column of job slot `j`'s block for resource `r`.
pub const fn slot_column(m: usize, r: usize, j: usize) -> usize {
    cluster_column(m, r) + CLUSTER_WIDTH + j * MAX_JOB_SIZE
}

/// First column of the backlog block.
pub const fn backlog_column(m: usize) -> usize {
    NUM_RES * resource_block_width(m)
}

/// The column holding the "time since the last new job" value.
pub const fn since_new_column(m: usize) -> usize {
    backlog_column(m) + BACKLOG_WIDTH
}

/// The output buffer given to [`encode_image_slice`] does not have [`image_len`]`(M)` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageShapeError {
    /// Values required, `image_len(M)`.
    pub expected: usize,
    /// Values in the buffer given.
    pub found: usize,
}

impl core::fmt::Display for ImageShapeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "image buffer holds {} values, the observation needs {}",
            self.found, self.expected
        )
    }
}

impl core::error::Error for ImageShapeError {}

/// Writes the image observation of `cluster` into `out`, shape `[IMAGE_ROWS][image_width(M)]`,
/// row-major, values in `[0, 1]` (layout in the [module documentation](self)).
///
/// The buffer length is checked at compile time: `N` must be [`image_len`]`(M)`.
///
/// ```
/// use whitebox_core::image::{encode_image, image_len};
/// use whitebox_core::Cluster;
///
/// let cluster: Cluster<5> = Cluster::new();
/// let mut image = [0.5f32; image_len(5)];
/// encode_image(&cluster, &mut image);
/// assert!(image.iter().all(|&v| v == 0.0));
/// ```
///
/// A buffer of the wrong size does not compile:
///
/// ```compile_fail
/// use whitebox_core::image::{encode_image, image_len};
/// use whitebox_core::Cluster;
///
/// let cluster: Cluster<5> = Cluster::new();
/// let mut image = [0.0f32; image_len(10)];
/// encode_image(&cluster, &mut image);
/// ```
pub fn encode_image<const M: usize, const N: usize>(cluster: &Cluster<M>, out: &mut [f32; N]) {
    const {
        assert!(
            N == image_len(M),
            "the image buffer must hold image_len(M) values"
        )
    };
    fill(cluster, out);
}

/// As [`encode_image`] for a buffer whose length is only known at run time.
///
/// # Errors
/// [`ImageShapeError`] when `out.len() != image_len(M)`; `out` is then left unchanged.
pub fn encode_image_slice<const M: usize>(
    cluster: &Cluster<M>,
    out: &mut [f32],
) -> Result<(), ImageShapeError> {
    if out.len() != image_len(M) {
        return Err(ImageShapeError {
            expected: image_len(M),
            found: out.len(),
        });
    }
    fill(cluster, out);
    Ok(())
}

/// Fills an `out` of exactly `image_len(M)` values. Cells outside `out` are skipped, never
/// indexed, so a wrong length could only give a truncated image, not a panic.
fn fill<const M: usize>(cluster: &Cluster<M>, out: &mut [f32]) {
    let width = image_width(M);
    out.fill(0.0);
    let since = f32::from(cluster.since_last_new().min(MAX_TRACK_SINCE_NEW))
        / f32::from(MAX_TRACK_SINCE_NEW);
    let backlog = cluster.backlog_len();
    // Cluster part, backlog and since-new column, row by row.
    let rows = out.chunks_exact_mut(width).zip(cluster.avbl());
    for (t, (row, free)) in rows.enumerate() {
        for (r, &free_r) in free.iter().enumerate() {
            let used = RES_UNITS.saturating_sub(free_r);
            set_ones(row, cluster_column(M, r), usize::from(used));
        }
        let backlog_cells = backlog.saturating_sub(t * BACKLOG_WIDTH).min(BACKLOG_WIDTH);
        set_ones(row, backlog_column(M), backlog_cells);
        if let Some(cell) = row.get_mut(since_new_column(M)) {
            *cell = since;
        }
    }
    // Job slots: only the rows `0..len` of a waiting job have cells set.
    for (j, slot) in cluster.slots().iter().enumerate() {
        let Some(job) = slot else { continue };
        for row in out.chunks_exact_mut(width).take(usize::from(job.len)) {
            for (r, &demand) in job.res.iter().enumerate() {
                set_ones(
                    row,
                    slot_column(M, r, j),
                    usize::from(demand).min(MAX_JOB_SIZE),
                );
            }
        }
    }
}

/// Sets `count` cells from `start` to 1.0, clipped to the row.
#[inline]
fn set_ones(row: &mut [f32], start: usize, count: usize) {
    let end = start.saturating_add(count).min(row.len());
    if let Some(cells) = row.get_mut(start..end) {
        cells.fill(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Action;
    use crate::job::Job;

    const W5: usize = image_width(5);

    fn job(id: u32, len: u32, res: [u32; 2]) -> Job {
        Job::new(id, 0, len, res).unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn cell(image: &[f32], t: usize, c: usize) -> f32 {
        image.get(t * W5 + c).copied().unwrap_or(f32::NAN)
    }

    /// Sum of the cells of rows `rows` and columns `cols`.
    fn block_sum(
        image: &[f32],
        rows: core::ops::Range<usize>,
        cols: core::ops::Range<usize>,
    ) -> f32 {
        rows.flat_map(|t| cols.clone().map(move |c| (t, c)))
            .map(|(t, c)| cell(image, t, c))
            .sum()
    }

    #[test]
    fn widths_match_deeprm() {
        // SEMANTICS.md section 1: network_input_width is 124 for num_nw=5 and 224 for 10.
        assert_eq!(image_width(5), 124);
        assert_eq!(image_width(10), 224);
        assert_eq!(image_len(5), 20 * 124);
        assert_eq!(image_len(10), 20 * 224);
        assert_eq!(BACKLOG_WIDTH, 3);
        // Column map for M = 5: [cluster0 0..10 | slots 10..60 | cluster1 60..70 | slots
        // 70..120 | backlog 120..123 | since new 123].
        assert_eq!(cluster_column(5, 1), 60);
        assert_eq!(slot_column(5, 0, 1), 20);
        assert_eq!(slot_column(5, 1, 4), 110);
        assert_eq!(backlog_column(5), 120);
        assert_eq!(since_new_column(5), 123);
        assert_eq!(since_new_column(10), 223);
    }

    /// One allocated job (len 3, demand [4, 2]), all five slots waiting, 4 jobs in the backlog.
    fn busy_cluster() -> Cluster<5> {
        let mut c: Cluster<5> = Cluster::new();
        c.submit(job(0, 3, [4, 2])).ok(); // slot 0, allocated below
        c.submit(job(1, 2, [3, 5])).ok(); // slot 1
        for id in 2..10 {
            c.submit(job(id, 1, [1, 1])).ok(); // slots 2..5, then backlog 0..5
        }
        assert_eq!(c.backlog_len(), 5);
        assert!(matches!(
            c.step(Action::Schedule(0)),
            crate::cluster::Step::Allocated { start: 0, .. }
        ));
        // The backlog head (job 5) refilled slot 0.
        assert_eq!(c.backlog_len(), 4);
        c
    }

    #[test]
    fn busy_cluster_cells_by_hand() {
        let c = busy_cluster();
        let mut image = [f32::NAN; image_len(5)];
        encode_image(&c, &mut image);

        // Cluster, resource 0: rows 0..3 have 4 of 10 units used, packed left.
        for t in 0..3 {
            assert_eq!(block_sum(&image, t..t + 1, 0..4), 4.0);
            assert_eq!(block_sum(&image, t..t + 1, 4..10), 0.0);
            assert_eq!(block_sum(&image, t..t + 1, 60..62), 2.0);
            assert_eq!(block_sum(&image, t..t + 1, 62..70), 0.0);
        }
        assert_eq!(block_sum(&image, 3..20, 0..10), 0.0);
        assert_eq!(block_sum(&image, 3..20, 60..70), 0.0);

        // Slot 1 holds job 1 (len 2, demand [3, 5]): resource 0 block starts at column 20,
        // resource 1 block at column 80.
        assert_eq!(block_sum(&image, 0..2, 20..23), 6.0);
        assert_eq!(block_sum(&image, 0..2, 23..30), 0.0);
        assert_eq!(block_sum(&image, 2..20, 20..30), 0.0);
        assert_eq!(block_sum(&image, 0..2, 80..85), 10.0);
        assert_eq!(block_sum(&image, 0..2, 85..90), 0.0);
        assert_eq!(block_sum(&image, 2..20, 80..90), 0.0);
        // Slot 0 holds job 5 (len 1, demand [1, 1]).
        assert_eq!(cell(&image, 0, 10), 1.0);
        assert_eq!(cell(&image, 0, 11), 0.0);
        assert_eq!(cell(&image, 1, 10), 0.0);
        assert_eq!(cell(&image, 0, 70), 1.0);

        // Backlog of 4: row 0 full (3 cells), row 1 one cell.
        assert_eq!(
            [
                cell(&image, 0, 120),
                cell(&image, 0, 121),
                cell(&image, 0, 122)
            ],
            [1.0; 3]
        );
        assert_eq!(
            [
                cell(&image, 1, 120),
                cell(&image, 1, 121),
                cell(&image, 1, 122)
            ],
            [1.0, 0.0, 0.0]
        );
        assert_eq!(block_sum(&image, 2..20, 120..123), 0.0);

        // Every job arrived now: the since-new column is 0.
        assert_eq!(block_sum(&image, 0..20, 123..124), 0.0);

        // Total by hand: cluster 3 * (4 + 2) = 18; slots: job 5, 7, 8, 9 (1 * 2 each) = 8 and
        // job 1 (2 * (3 + 5)) = 16; backlog 4; since-new 0. Sum 46.
        assert_eq!(image.iter().sum::<f32>(), 46.0);
        assert!(image.iter().all(|&v| v == 0.0 || v == 1.0));
    }

    #[test]
    fn time_advance_shifts_rows_and_fills_since_new() {
        let mut c = busy_cluster();
        c.step(Action::Void);
        let mut image = [f32::NAN; image_len(5)];
        encode_image(&c, &mut image);
        // The allocated job has 2 steps left: rows 0..2.
        assert_eq!(block_sum(&image, 0..2, 0..10), 8.0);
        assert_eq!(block_sum(&image, 2..20, 0..10), 0.0);
        // One step since the last arrival: 1 / 10 in every row of the last column.
        for t in 0..IMAGE_ROWS {
            assert_eq!(cell(&image, t, 123), 0.1);
        }
    }

    #[test]
    fn full_backlog_fills_its_block() {
        let mut c: Cluster<2> = Cluster::new();
        for id in 0..(2 + BACKLOG as u32) {
            assert!(c.submit(job(id, 1, [1, 1])).is_ok());
        }
        let mut image = [0.0f32; image_len(2)];
        encode_image(&c, &mut image);
        let w = image_width(2);
        let col = backlog_column(2);
        let backlog_cells: f32 = image
            .chunks_exact(w)
            .flat_map(|row| row.iter().skip(col).take(BACKLOG_WIDTH))
            .sum();
        assert_eq!(backlog_cells, BACKLOG as f32);
    }

    #[test]
    fn wide_image_for_ten_slots() {
        let mut c: Cluster<10> = Cluster::new();
        c.submit(job(0, 4, [10, 10])).ok();
        c.step(Action::Schedule(0));
        c.submit(job(1, 20, [2, 7])).ok();
        for _ in 0..12 {
            c.step(Action::Void);
        }
        let mut image = [f32::NAN; image_len(10)];
        encode_image(&c, &mut image);
        let w = image_width(10);
        assert_eq!(w, 224);
        // The full-width job has finished; job 1 waits in slot 0 for all 20 rows.
        let sum = |rows: core::ops::Range<usize>, cols: core::ops::Range<usize>| -> f32 {
            rows.flat_map(|t| cols.clone().map(move |col| (t, col)))
                .map(|(t, col)| image.get(t * w + col).copied().unwrap_or(f32::NAN))
                .sum()
        };
        assert_eq!(sum(0..20, 0..10), 0.0);
        assert_eq!(
            sum(0..20, slot_column(10, 0, 0)..slot_column(10, 0, 1)),
            40.0
        );
        assert_eq!(
            sum(0..20, slot_column(10, 1, 0)..slot_column(10, 1, 1)),
            140.0
        );
        // since_last_new = 10 (capped), so the last column is 1.0.
        assert_eq!(sum(0..20, 223..224), 20.0);
        assert_eq!(image.iter().sum::<f32>(), 200.0);
    }

    #[test]
    fn slice_version_checks_length() {
        let c = busy_cluster();
        let mut short = [7.0f32; 10];
        assert_eq!(
            encode_image_slice(&c, &mut short),
            Err(ImageShapeError {
                expected: 2480,
                found: 10
            })
        );
        assert!(short.iter().all(|&v| v == 7.0));
        let mut a = [0.0f32; image_len(5)];
        let mut b = [0.0f32; image_len(5)];
        encode_image(&c, &mut a);
        assert_eq!(encode_image_slice(&c, &mut b), Ok(()));
        assert_eq!(a, b);
    }

    #[test]
    fn cluster_cells_count_used_units_through_an_episode() {
        use crate::baselines::RandomPolicy;
        use crate::scheduler::Scheduler;
        let mut policy = RandomPolicy::new(3);
        let mut image = [0.0f32; image_len(5)];
        let visit = |_: usize, c: &Cluster<5>| {
            encode_image(c, &mut image);
            assert!(image.iter().all(|v| (0.0..=1.0).contains(v)));
            for (t, row) in image.chunks_exact(W5).enumerate() {
                for r in 0..NUM_RES {
                    let cols = cluster_column(5, r)..cluster_column(5, r) + 10;
                    let ones: f32 = row.get(cols).map_or(f32::NAN, |s| s.iter().sum());
                    let used = 10 - c.avbl().get(t).map_or(0, |a| a[r]);
                    assert_eq!(ones, f32::from(used));
                }
            }
        };
        let act = |_: usize, c: &Cluster<5>| policy.decide(c).unwrap_or(Action::Void);
        crate::cluster::play_busy((crate::workload::Workload::DeepRm, 0.9, 7), 400, visit, act);
    }
}
