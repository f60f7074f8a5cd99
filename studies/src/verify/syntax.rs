//! The region syntax of `whitebox verify --region`: constraints on the compact features in whole
//! units, separated by commas.
//!
//! ```text
//! region  := item (',' item)*
//! item    := 'idle' | name '=' range
//! name    := 'free' index '.res' digit      free units of horizon rows (over 10)
//!          | 'slot' index '.' ('len' | 'res0' | 'res1' | 'wait')
//!          | 'backlog' | 'since_new'
//! index   := '[' '*' ']' | '[' n ']' | '[' n '..' n ']'     (inclusive)
//!          | n                                        (`slot2.len`, as `verify` prints states)
//! range   := n | n '..' n                                 (inclusive, whole units)
//! ```
//!
//! Example: `idle, slot[0].len=1..20, slot[1..9].len=0, since_new=0..10`. `idle` fixes every
//! free-unit feature at 10. An error names the column (from 1), what was expected and what was
//! found.

use anyhow::{bail, Result};
use whitebox_core::spec::{HORIZON, NUM_RES};

use super::region::{Feature, Region};

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn skip_space(&mut self) {
        while self.text[self.pos..].starts_with(' ') {
            self.pos += 1;
        }
    }

    fn fail<T>(&self, expected: &str) -> Result<T> {
        // The whole number or word at the cursor (`70`, `size`), else one character.
        let rest = &self.text[self.pos..];
        let word = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .count();
        let found = match rest.chars().next() {
            None => "the end".to_string(),
            Some(c) if word == 0 => format!("`{c}`"),
            Some(_) => format!("`{}`", &rest[..word]),
        };
        bail!(
            "region `{}`: at column {}: expected {expected}, found {found}",
            self.text,
            self.pos + 1
        )
    }

    fn eat(&mut self, word: &str) -> bool {
        self.skip_space();
        let hit = self.text[self.pos..].starts_with(word);
        if hit {
            self.pos += word.len();
        }
        hit
    }

    fn expect(&mut self, word: &str) -> Result<()> {
        if self.eat(word) {
            Ok(())
        } else {
            self.fail(&format!("`{word}`"))
        }
    }

    fn number(&mut self) -> Result<u16> {
        self.skip_space();
        let digits = self.text[self.pos..]
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        if digits == 0 {
            return self.fail("a whole number");
        }
        let start = self.pos;
        self.pos += digits;
        match self.text[start..self.pos].parse() {
            Ok(v) => Ok(v),
            Err(_) => {
                self.pos = start;
                self.fail("a number below 65536")
            }
        }
    }

    /// `n` or `n..m`, inclusive; also the position of the upper end (for an error about it).
    fn range(&mut self) -> Result<(u16, u16, usize)> {
        self.skip_space();
        let lo_at = self.pos;
        let lo = self.number()?;
        if self.eat("..") {
            self.skip_space();
            let at = self.pos;
            let hi = self.number()?;
            if hi < lo {
                self.pos = at;
                return self.fail(&format!("an upper end at least {lo}"));
            }
            return Ok((lo, hi, at));
        }
        Ok((lo, lo, lo_at))
    }

    /// `[*]`, `[n]`, `[n..m]` or a bare `n`, checked against `count` entries.
    fn index(&mut self, count: usize) -> Result<(usize, usize)> {
        self.skip_space();
        if self.text[self.pos..].starts_with(|c: char| c.is_ascii_digit()) {
            let at = self.pos;
            let n = usize::from(self.number()?);
            if n >= count {
                self.pos = at;
                return self.fail(&format!("an index below {count}"));
            }
            return Ok((n, n));
        }
        self.expect("[")?;
        if self.eat("*") {
            self.expect("]")?;
            return Ok((0, count - 1));
        }
        let (lo, hi, hi_at) = self.range()?;
        if usize::from(hi) >= count {
            self.pos = hi_at;
            return self.fail(&format!("an index below {count}"));
        }
        self.expect("]")?;
        Ok((usize::from(lo), usize::from(hi)))
    }
}

/// Parses `text` into constraints on `region` (intersected with what it allows).
///
/// # Errors
/// The column, what was expected and what was found, for the first syntax error or value out of
/// its feature's range.
pub fn parse_region(text: &str, mut region: Region) -> Result<Region> {
    let mut c = Cursor { text, pos: 0 };
    loop {
        let mut features = Vec::new();
        if c.eat("idle") {
            region = region.idle();
        } else {
            if c.eat("free") {
                let (a, b) = c.index(HORIZON)?;
                c.expect(".res")?;
                let at = c.pos;
                let res = usize::from(c.number()?);
                if res >= NUM_RES {
                    c.pos = at;
                    return c.fail(&format!("a resource below {NUM_RES}"));
                }
                features.extend((a..=b).map(|row| Feature::Free { row, res }));
            } else if c.eat("slot") {
                let (a, b) = c.index(region.m)?;
                c.expect(".")?;
                let make: fn(usize) -> Feature = if c.eat("len") {
                    |slot| Feature::Len { slot }
                } else if c.eat("res0") {
                    |slot| Feature::Demand { slot, res: 0 }
                } else if c.eat("res1") {
                    |slot| Feature::Demand { slot, res: 1 }
                } else if c.eat("wait") {
                    |slot| Feature::Wait { slot }
                } else {
                    return c.fail("`len`, `res0`, `res1` or `wait`");
                };
                features.extend((a..=b).map(make));
            } else if c.eat("backlog") {
                features.push(Feature::Backlog);
            } else if c.eat("since_new") {
                features.push(Feature::SinceNew);
            } else {
                return c.fail("`idle`, `free[..]`, `slot[..]`, `backlog` or `since_new`");
            }
            c.expect("=")?;
            let (lo, hi, hi_at) = c.range()?;
            let top = features.first().map_or(0, |f| f.domain().0);
            if hi > top {
                c.pos = hi_at;
                return c.fail(&format!("values up to {top}"));
            }
            for f in features {
                region.set(f, lo, hi);
            }
        }
        if !c.eat(",") {
            break;
        }
    }
    c.skip_space();
    if c.pos < text.len() {
        return c.fail("`,` or the end");
    }
    Ok(region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_parses_into_ranges() {
        let r = parse_region(
            "idle, slot[0].len=1..20, slot[1..9].len=0,backlog = 0, free[0].res1=3..4",
            Region::all(10),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let at = |f| r.index(f).map(|i| (r.lo[i], r.hi[i]));
        assert_eq!(at(Feature::Len { slot: 0 }), Some((1, 20)));
        assert_eq!(at(Feature::Len { slot: 9 }), Some((0, 0)));
        assert_eq!(at(Feature::Backlog), Some((0, 0)));
        // `idle` fixes 10, then 3..4 intersects to nothing: the region is empty.
        assert_eq!(at(Feature::Free { row: 0, res: 1 }), Some((10, 4)));
        assert_eq!(at(Feature::Free { row: 5, res: 0 }), Some((10, 10)));
    }

    #[test]
    fn a_state_as_verify_prints_it_parses_back_to_that_state_alone() {
        use crate::verify::bab::Counterexample;
        let all = Region::all(10);
        let features: Vec<(String, u16)> = (0..all.lo.len())
            .map(|i| {
                let f = Feature::at(i, 10).unwrap_or(Feature::Backlog);
                // A value inside every feature's domain that differs between features.
                (f.name(), (i as u16 * 7) % (f.domain().0 + 1))
            })
            .collect();
        let c = Counterexample {
            features: features.clone(),
            logits: Vec::new(),
        };
        let r = parse_region(&c.region_text(), all).unwrap_or_else(|e| panic!("{e}"));
        for (i, (name, v)) in features.iter().enumerate() {
            assert_eq!((r.lo[i], r.hi[i]), (*v, *v), "{name}");
        }
        // The bare index is the bracketed one.
        let bare = parse_region("slot3.len=2..5, free4.res1=9", Region::all(10));
        let brackets = parse_region("slot[3].len=2..5, free[4].res1=9", Region::all(10));
        assert!(bare.is_ok());
        assert_eq!(bare.ok(), brackets.ok());
    }

    #[test]
    fn errors_give_the_column_and_what_was_expected() {
        let err = |t: &str| {
            parse_region(t, Region::all(10))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert_eq!(
            err("slot[0].size=1"),
            "region `slot[0].size=1`: at column 9: expected `len`, `res0`, `res1` or `wait`, found `size`"
        );
        assert_eq!(
            err("slot[10].len=1"),
            "region `slot[10].len=1`: at column 6: expected an index below 10, found `10`"
        );
        assert_eq!(
            err("backlog=70"),
            "region `backlog=70`: at column 9: expected values up to 60, found `70`"
        );
        assert_eq!(
            err("idle slot[0].len=1"),
            "region `idle slot[0].len=1`: at column 6: expected `,` or the end, found `slot`"
        );
        assert_eq!(
            err("since_new=5..2"),
            "region `since_new=5..2`: at column 14: expected an upper end at least 5, found `2`"
        );
        // The value out of range is named, not the range's first digit.
        assert_eq!(
            err("slot[5..12].len=0"),
            "region `slot[5..12].len=0`: at column 9: expected an index below 10, found `12`"
        );
        assert_eq!(
            err("slot[5].len=0..25"),
            "region `slot[5].len=0..25`: at column 16: expected values up to 20, found `25`"
        );
        assert_eq!(
            err("slot12.len=1"),
            "region `slot12.len=1`: at column 5: expected an index below 10, found `12`"
        );
        assert_eq!(
            err("free[0].res0"),
            "region `free[0].res0`: at column 13: expected `=`, found the end"
        );
    }
}
