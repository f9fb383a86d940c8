//! Wasm backtraces: the Wasm frames a trap unwound, from the trapping function out to
//! the outermost call the embedder made, named from the modules' name sections.
//!
//! Both engines build one the same way: the frames of one host-to-Wasm entry, innermost
//! first, appended when a trap leaves that entry (the interpreter reads its frame stack,
//! the native engine walks the frame-pointer chain, `native/backtrace.rs`). A trap that
//! passes out through a host function into the Wasm code that called it gets that
//! code's frames appended too, so host functions between Wasm frames are left out but
//! the Wasm frames on both sides are kept. Only the first [`Backtrace::HEAD_FRAMES`] and the last
//! [`Backtrace::TAIL_FRAMES`] frames are kept, with a count of those in between: a trap at the
//! bottom of a runaway recursion costs a bounded backtrace.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

/// Where a frame's names come from: its module (the front end's `ModuleInfo`, which
/// reads the name section).
pub(crate) trait FrameNames: Send + Sync {
    /// The module's name (name section, module subsection).
    fn module_name(&self) -> Option<&str>;
    /// The name of function `func_index` (module index space, imports counted).
    fn func_name(&self, func_index: u32) -> Option<&str>;
}

/// One frame: a function of a module, by index, with its names if the module has a
/// name section that gives them.
#[derive(Clone)]
pub struct FrameInfo {
    func_index: u32,
    names: Arc<dyn FrameNames>,
}

impl FrameInfo {
    pub(crate) fn new(func_index: u32, names: Arc<dyn FrameNames>) -> FrameInfo {
        FrameInfo { func_index, names }
    }

    /// The function's index in its module (imported functions counted first).
    pub fn func_index(&self) -> u32 {
        self.func_index
    }

    /// The function's name from the module's name section.
    pub fn func_name(&self) -> Option<&str> {
        self.names.func_name(self.func_index)
    }

    /// The module's name from its name section.
    pub fn module_name(&self) -> Option<&str> {
        self.names.module_name()
    }
}

/// `module!name (func 12)`, without the module when it has no name; `func 12` alone
/// when the function has none.
impl fmt::Display for FrameInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(m) = self.module_name() {
            write!(f, "{m}!")?;
        }
        match self.func_name() {
            Some(name) => write!(f, "{name} (func {})", self.func_index),
            None => write!(f, "func {}", self.func_index),
        }
    }
}

impl fmt::Debug for FrameInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameInfo")
            .field("func_index", &self.func_index)
            .field("func_name", &self.func_name())
            .field("module_name", &self.module_name())
            .finish()
    }
}

/// The Wasm frames a trap unwound, innermost (the trapping function) first.
#[derive(Clone, Default)]
pub struct Backtrace {
    /// The first `HEAD_FRAMES` frames.
    head: Vec<FrameInfo>,
    /// The last frames seen after the head filled up, at most `TAIL_FRAMES`.
    tail: VecDeque<FrameInfo>,
    /// Frames seen between `head` and `tail` and not kept.
    omitted: usize,
}

impl Backtrace {
    /// The innermost frames a backtrace keeps.
    pub const HEAD_FRAMES: usize = 64;
    /// The outermost frames a backtrace keeps once there are more than `HEAD_FRAMES`.
    pub const TAIL_FRAMES: usize = 8;

    /// Adds the next frame outwards.
    pub(crate) fn push(&mut self, frame: FrameInfo) {
        if self.head.len() < Backtrace::HEAD_FRAMES {
            self.head.push(frame);
            return;
        }
        if self.tail.len() == Backtrace::TAIL_FRAMES {
            self.tail.pop_front();
            self.omitted += 1;
        }
        self.tail.push_back(frame);
    }

    /// Adds `count` frames outwards, frame `i` of them made by `frame_at(i)` only if it
    /// is kept: what [`Backtrace::push`] of each would leave, without making the frames
    /// it would drop (for frames that can be read in any order).
    pub(crate) fn extend(&mut self, count: usize, frame_at: impl Fn(usize) -> FrameInfo) {
        let mut i = 0;
        while i < count && self.head.len() < Backtrace::HEAD_FRAMES {
            self.head.push(frame_at(i));
            i += 1;
        }
        // Frames that the last `TAIL_FRAMES` would push out of the tail anyway; those
        // pushes also push out everything the tail holds now, as counted below.
        let dropped = (count - i).saturating_sub(Backtrace::TAIL_FRAMES);
        self.omitted += dropped;
        for j in i + dropped..count {
            self.push(frame_at(j));
        }
    }

    /// The frames kept, innermost first: the first frames, then (after
    /// [`Backtrace::omitted`] frames left out) the last ones.
    pub fn frames(&self) -> impl Iterator<Item = &FrameInfo> {
        self.head.iter().chain(self.tail.iter())
    }

    /// How many frames between the first and the last ones were left out.
    pub fn omitted(&self) -> usize {
        self.omitted
    }

    /// How many frames the trap unwound, kept or not.
    pub fn total_frames(&self) -> usize {
        self.head.len() + self.omitted + self.tail.len()
    }
}

/// One line per frame, numbered from 0 (the trapping function): `  0: m!f (func 3)`,
/// and `  ... N frames omitted` where frames were left out. No final newline.
impl fmt::Display for Backtrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut line = |f: &mut fmt::Formatter<'_>, args: fmt::Arguments<'_>| {
            if !std::mem::take(&mut first) {
                f.write_str("\n")?;
            }
            f.write_fmt(args)
        };
        for (i, frame) in self.head.iter().enumerate() {
            line(f, format_args!("  {i}: {frame}"))?;
        }
        if self.omitted > 0 {
            line(f, format_args!("  ... {} frames omitted", self.omitted))?;
        }
        let tail_start = self.head.len() + self.omitted;
        for (i, frame) in self.tail.iter().enumerate() {
            line(f, format_args!("  {}: {frame}", tail_start + i))?;
        }
        Ok(())
    }
}

impl fmt::Debug for Backtrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backtrace")
            .field("frames", &self.frames().collect::<Vec<_>>())
            .field("omitted", &self.omitted)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD_FRAMES: usize = Backtrace::HEAD_FRAMES;
    const TAIL_FRAMES: usize = Backtrace::TAIL_FRAMES;

    struct Names;

    impl FrameNames for Names {
        fn module_name(&self) -> Option<&str> {
            Some("m")
        }
        fn func_name(&self, func_index: u32) -> Option<&str> {
            func_index.is_multiple_of(2).then_some("even")
        }
    }

    fn backtrace(frames: u32) -> Backtrace {
        let names: Arc<dyn FrameNames> = Arc::new(Names);
        let mut bt = Backtrace::default();
        for i in 0..frames {
            bt.push(FrameInfo::new(i, names.clone()));
        }
        bt
    }

    #[test]
    fn short_backtraces_keep_every_frame() {
        let bt = backtrace(3);
        assert_eq!(bt.total_frames(), 3);
        assert_eq!(bt.omitted(), 0);
        assert_eq!(
            bt.to_string(),
            "  0: m!even (func 0)\n  1: m!func 1\n  2: m!even (func 2)"
        );
    }

    #[test]
    fn extend_keeps_what_push_would() {
        let names: Arc<dyn FrameNames> = Arc::new(Names);
        let frame = |i: usize| FrameInfo::new(i as u32, names.clone());
        // Segments of these sizes, appended one after the other, as activations are.
        for segments in [&[3, 5][..], &[60, 10, 3], &[100], &[70, 2, 200, 1], &[0, 9]] {
            let mut pushed = Backtrace::default();
            let mut extended = Backtrace::default();
            let mut next = 0;
            for &n in segments {
                (next..next + n).for_each(|i| pushed.push(frame(i)));
                extended.extend(n, |i| frame(next + i));
                next += n;
            }
            assert_eq!(pushed.to_string(), extended.to_string(), "{segments:?}");
            assert_eq!(pushed.omitted(), extended.omitted(), "{segments:?}");
        }
    }

    #[test]
    fn long_backtraces_keep_the_first_and_last_frames() {
        let total = 1000;
        let bt = backtrace(total);
        assert_eq!(bt.total_frames(), total as usize);
        assert_eq!(bt.omitted(), total as usize - HEAD_FRAMES - TAIL_FRAMES);
        let kept: Vec<u32> = bt.frames().map(|f| f.func_index()).collect();
        let expected: Vec<u32> = (0..HEAD_FRAMES as u32)
            .chain(total - TAIL_FRAMES as u32..total)
            .collect();
        assert_eq!(kept, expected);
        let text = bt.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), HEAD_FRAMES + 1 + TAIL_FRAMES);
        assert_eq!(lines[HEAD_FRAMES], "  ... 928 frames omitted");
        assert_eq!(lines[HEAD_FRAMES + 1], "  992: m!even (func 992)");
        assert_eq!(lines.last().unwrap(), &"  999: m!func 999");
    }
}
