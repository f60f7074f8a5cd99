//! The image observation kept up to date in place: [`update_image`] rewrites only the cells
//! whose values differ from what the buffer shows, instead of all `20 * W` of them.
//!
//! Every block of the image ([module documentation](super)) is, row by row, a run of 1.0 cells
//! from the block's left edge: `used` units of a resource in the cluster part, a waiting job's
//! demand in the rows `0..len` of its slot block, the backlog count row-major, plus the
//! since-new column. So the image is a function of a small summary of the cluster ([`ImageMemo`]:
//! 40 bytes of free units, `4 * M` bytes of slot contents and two counters), and going from one
//! summary to the next only needs the cells between the old and the new run end of each block
//! row that changed: a time step shifts the occupied rows up by one, an allocation lowers the
//! free units of the job's rows and empties (or refills) a slot, an arrival fills a slot or the
//! backlog. The result is the full rebuild's, cell for cell (every cell is 0.0, 1.0 or the one
//! since-new value), whatever clusters the buffer is asked to show and in whatever order;
//! successive states of one episode only make it cheap.

use crate::cluster::Cluster;
use crate::job::Job;
use crate::spec::{HORIZON, MAX_JOB_SIZE, MAX_TRACK_SINCE_NEW, NUM_RES, RES_UNITS};

use super::{
    backlog_column, cluster_column, fill, image_len, image_width, since_new_column, slot_column,
    BACKLOG_WIDTH, IMAGE_ROWS,
};

/// What a job slot shows: a run of `cells(r)` ones in each of its first `rows()` rows (all
/// zero for an empty slot), packed in one word (rows, then each resource's cells, a byte each)
/// so that comparing slots is one integer comparison.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct SlotCells(u32);

impl SlotCells {
    /// As the full rebuild draws `slot`: at most `T` rows, at most a block's width of cells.
    #[inline]
    fn of(slot: &Option<Job>) -> Self {
        match slot {
            Some(job) => {
                let [r0, r1] = job.res.map(|d| u32::from(d.min(MAX_JOB_SIZE as u8)));
                SlotCells(u32::from(job.len.min(HORIZON as u8)) | r0 << 8 | r1 << 16)
            }
            None => SlotCells(0),
        }
    }

    fn rows(self) -> usize {
        (self.0 & 0xff) as usize
    }

    /// Cells per row of each resource.
    fn cells(self) -> [u8; NUM_RES] {
        [(self.0 >> 8) as u8, (self.0 >> 16) as u8]
    }
}

/// What an image buffer shows: the summary of a cluster its image is a function of (free units
/// per horizon row, slot contents, backlog count, capped time since the last new job), so that
/// [`update_image`] can rewrite only what changed. `Default` is "unknown": the first update
/// rebuilds the whole image.
///
/// Memory: `T * d + 4 * M` bytes and two counters (about 100 bytes for `M = 10`).
#[derive(Clone, Debug)]
pub struct ImageMemo<const M: usize> {
    known: bool,
    /// Free units per horizon row and resource (the cluster part shows `RES_UNITS - free`).
    avbl: [[u8; NUM_RES]; HORIZON],
    slots: [SlotCells; M],
    /// Jobs in the backlog.
    backlog: usize,
    /// Time since the last new job, capped at [`MAX_TRACK_SINCE_NEW`].
    since: u8,
}

impl<const M: usize> Default for ImageMemo<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const M: usize> ImageMemo<M> {
    /// A memo of an unknown image: the next [`update_image`] writes every cell.
    pub fn new() -> Self {
        ImageMemo {
            known: false,
            avbl: [[RES_UNITS; NUM_RES]; HORIZON],
            slots: [SlotCells::default(); M],
            backlog: 0,
            since: 0,
        }
    }
}

/// Brings `out` from the image `memo` says it shows to the image of `cluster`, writing only the
/// cells that differ, and records `cluster`'s summary in `memo`. Afterwards `out` equals
/// [`super::encode_image`]`(cluster)` bit for bit, provided `out` was not changed since the
/// last update with `memo` (or `memo` is new).
///
/// Shape as [`super::encode_image`]: `N` must be [`image_len`]`(M)` (checked at compile time).
/// Cost: comparing the summaries, then a few cells per changed block row; a time step of a busy
/// cluster rewrites the run ends of its occupied rows and the since-new column.
///
/// ```
/// use whitebox_core::image::{encode_image, image_len, update_image, ImageMemo};
/// use whitebox_core::{Action, Cluster, Job};
///
/// let mut cluster: Cluster<5> = Cluster::new();
/// let (mut memo, mut kept) = (ImageMemo::new(), [0.0f32; image_len(5)]);
/// let mut full = [0.0f32; image_len(5)];
/// cluster.submit(Job::new(0, 0, 3, [4, 2]).unwrap()).unwrap();
/// for action in [Action::Schedule(0), Action::Void, Action::Void] {
///     update_image(&mut memo, &cluster, &mut kept);
///     encode_image(&cluster, &mut full);
///     assert_eq!(kept, full);
///     cluster.step(action);
/// }
/// ```
pub fn update_image<const M: usize, const N: usize>(
    memo: &mut ImageMemo<M>,
    cluster: &Cluster<M>,
    out: &mut [f32; N],
) {
    const {
        assert!(
            N == image_len(M),
            "the image buffer must hold image_len(M) values"
        )
    };
    if !memo.known {
        fill(cluster, out);
        memo.known = true;
        memo.avbl = *cluster.avbl();
        for (kept, slot) in memo.slots.iter_mut().zip(cluster.slots()) {
            *kept = SlotCells::of(slot);
        }
        memo.backlog = cluster.backlog_len();
        memo.since = cluster.since_last_new().min(MAX_TRACK_SINCE_NEW);
        return;
    }
    let width = image_width(M);
    // Cluster part: rows whose free units changed (all occupied ones after a time step),
    // found by comparing four rows (eight bytes) at a time.
    let old_words = memo.avbl.chunks_exact_mut(WORD_ROWS);
    for (w, (old, new)) in old_words
        .zip(cluster.avbl().chunks_exact(WORD_ROWS))
        .enumerate()
    {
        if old == new {
            continue;
        }
        for (k, (o, n)) in old.iter_mut().zip(new).enumerate() {
            if o != n {
                let t = w * WORD_ROWS + k;
                for (r, &free) in n.iter().enumerate() {
                    let used = RES_UNITS.saturating_sub(free);
                    put_run(out, t * width + cluster_column(M, r), used);
                }
                *o = *n;
            }
        }
    }
    // Job slots whose job changed: the rows either job covers.
    let slots = memo.slots.iter_mut().zip(cluster.slots()).enumerate();
    for (j, (old, slot)) in slots {
        let new = SlotCells::of(slot);
        if *old == new {
            continue;
        }
        let (shown, hidden, drawn) = (new.rows(), old.rows(), new.cells());
        for t in 0..shown.max(hidden) {
            let cells = if t < shown { drawn } else { [0; NUM_RES] };
            for (r, &count) in cells.iter().enumerate() {
                put_run(out, t * width + slot_column(M, r, j), count);
            }
        }
        *old = new;
    }
    // Backlog cell k is row k / 3, column k % 3 of the block.
    let backlog = cluster.backlog_len();
    if memo.backlog != backlog {
        let value = if backlog > memo.backlog { 1.0 } else { 0.0 };
        for k in memo.backlog.min(backlog)..memo.backlog.max(backlog) {
            let at = (k / BACKLOG_WIDTH) * width + backlog_column(M) + k % BACKLOG_WIDTH;
            if let Some(cell) = out.get_mut(at) {
                *cell = value;
            }
        }
        memo.backlog = backlog;
    }
    let since = cluster.since_last_new().min(MAX_TRACK_SINCE_NEW);
    if memo.since != since {
        let value = f32::from(since) / f32::from(MAX_TRACK_SINCE_NEW);
        for t in 0..IMAGE_ROWS {
            if let Some(cell) = out.get_mut(t * width + since_new_column(M)) {
                *cell = value;
            }
        }
        memo.since = since;
    }
}

/// `RUNS[k]`: a block row showing `k` units, `k` ones then zeros.
const RUNS: [[f32; BLOCK]; BLOCK + 1] = {
    let mut runs = [[0.0; BLOCK]; BLOCK + 1];
    let mut k = 0;
    while k <= BLOCK {
        let mut c = 0;
        while c < k {
            runs[k][c] = 1.0;
            c += 1;
        }
        k += 1;
    }
    runs
};

/// Horizon rows whose free units are compared at once (eight bytes).
const WORD_ROWS: usize = 4;

// The horizon splits into whole words (`%`: `is_multiple_of` needs a newer Rust than the core's).
#[allow(clippy::manual_is_multiple_of)]
const _: () = assert!(HORIZON % WORD_ROWS == 0);

/// Width of a cluster or job-slot block row: the longest run.
const BLOCK: usize = MAX_JOB_SIZE;

// A cluster block row is as wide as a slot's, so one table serves both.
const _: () = assert!(RES_UNITS as usize == BLOCK);

/// Writes the block row starting at index `start` of `out` as a run of `count` ones (clipped to
/// the block): one fixed-size copy instead of a loop over the changed cells.
#[inline]
fn put_run(out: &mut [f32], start: usize, count: u8) {
    let run = RUNS.get(usize::from(count)).unwrap_or(&RUNS[BLOCK]);
    if let Some(cells) = out
        .get_mut(start..)
        .and_then(|rest| rest.first_chunk_mut::<BLOCK>())
    {
        *cells = *run;
    }
}
