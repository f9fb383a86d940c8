//! One function's translator: made with the function's parameters, its locals declared,
//! and, once every operator has been visited, finished into checked code; and the
//! buffers it works in, kept from one function to the next.

use std::mem::take;

use rustc_hash::FxHashMap as HashMap;

use super::{
    Ctrl, CtrlKind, Operand, STACK_MARK, Translator, const_value, final_slot, metering, peephole,
    wide_of,
};
use crate::error::{Error, Result};
use crate::interp::bytecode::{FuncCode, Handler, Instr, Slot};
use crate::interp::code::{self, Code};
use crate::module::ModuleInfo;
use crate::values::ValType;

/// The translator's working buffers, handed from one function to the next of a module:
/// each is allocated once per module rather than grown from nothing in every function
/// (allocation was a tenth of a small module's compile). The constants are copied out at
/// the end into exactly sized vectors, which the finished code keeps; the instructions
/// move into it.
#[derive(Default)]
pub(crate) struct Scratch {
    instrs: Vec<Instr>,
    stack: Vec<Operand>,
    wide: Vec<bool>,
    offs: Vec<u32>,
    local_slots: Vec<u32>,
    local_wide: Vec<bool>,
    ctrls: Vec<Ctrl>,
    v128_consts: Vec<u128>,
    v128_const_index: HashMap<u128, u32>,
    consts: Vec<u64>,
    const_slots: HashMap<u64, Slot>,
    v128_slots: HashMap<u128, Slot>,
    handlers: Vec<Handler>,
}

impl<'a> Translator<'a> {
    /// A translator of defined function `defined`, its parameters declared (its other
    /// locals are declared next, by `declare_locals`), working in `scratch`'s buffers
    /// (empty: `finish` gives them back so).
    pub(super) fn new(
        info: &'a ModuleInfo,
        defined: usize,
        interruptible: bool,
        scratch: &mut Scratch,
    ) -> Translator<'a> {
        let func_index = info.num_imported_funcs + defined as u32;
        let ty = info.func_type(func_index);
        let result_wide = wide_of(ty.results());
        let mut t = Translator {
            info,
            instrs: take(&mut scratch.instrs),
            stack: take(&mut scratch.stack),
            wide: take(&mut scratch.wide),
            offs: take(&mut scratch.offs),
            local_slots: take(&mut scratch.local_slots),
            local_wide: take(&mut scratch.local_wide),
            ctrls: take(&mut scratch.ctrls),
            num_results: ty.results().len(),
            result_wide: result_wide.clone(),
            v128_consts: take(&mut scratch.v128_consts),
            v128_const_index: take(&mut scratch.v128_const_index),
            num_locals: 0,
            num_params: 0,
            consts: take(&mut scratch.consts),
            const_slots: take(&mut scratch.const_slots),
            v128_slots: take(&mut scratch.v128_slots),
            max_height: 0,
            last_def: None,
            reachable: true,
            skip_depth: 0,
            handlers: take(&mut scratch.handlers),
            interruptible,
        };
        // Sized ahead (the instructions from the body's length, about one per two bytes
        // of Wasm) rather than grown by doubling from nothing; a later function of the
        // module finds the others' room already there.
        let body_len = info.bodies[defined].range.len();
        t.instrs.reserve(body_len / 2);
        t.stack.reserve(32);
        t.wide.reserve(32);
        t.offs.reserve(32);
        t.ctrls.reserve(8);
        for &p in ty.params() {
            t.push_local(p == ValType::V128);
        }
        t.num_params = t.num_locals;
        t.ctrls.push(Ctrl {
            kind: CtrlKind::Func,
            height: 0,
            params: 0,
            results: ty.results().len(),
            param_wide: Vec::new(),
            result_wide,
            start: 0,
            pending: Vec::new(),
            else_jump: None,
            handlers: None,
        });
        t
    }

    /// Gives the next local its slots (two for a `v128`).
    fn push_local(&mut self, wide: bool) {
        self.local_slots.push(self.num_locals);
        self.local_wide.push(wide);
        self.num_locals += 1 + wide as u32;
    }

    /// Declares `count` more locals of type `ty` (a body's local declarations, in order).
    pub(super) fn declare_locals(&mut self, count: u32, ty: wasmparser::ValType) -> Result<()> {
        let wide = ty == wasmparser::ValType::V128;
        if self.num_locals as u64 + count as u64 * 2 > u32::MAX as u64 / 4 {
            return Err(Error::unsupported("too many locals"));
        }
        for _ in 0..count {
            self.push_local(wide);
        }
        Ok(())
    }

    /// Numbers the slots, runs the peephole passes (and the metered forms' pass if
    /// `metered`) and checks the code: the translated function. The buffers go back to
    /// `scratch`, emptied, whatever the outcome.
    pub(super) fn finish(mut self, metered: bool, scratch: &mut Scratch) -> Result<FuncCode> {
        let code = self.finish_code(metered);
        self.instrs.clear();
        self.stack.clear();
        self.wide.clear();
        self.offs.clear();
        self.local_slots.clear();
        self.local_wide.clear();
        self.ctrls.clear();
        self.v128_consts.clear();
        self.v128_const_index.clear();
        self.consts.clear();
        self.const_slots.clear();
        self.v128_slots.clear();
        self.handlers.clear();
        *scratch = Scratch {
            instrs: self.instrs,
            stack: self.stack,
            wide: self.wide,
            offs: self.offs,
            local_slots: self.local_slots,
            local_wide: self.local_wide,
            ctrls: self.ctrls,
            v128_consts: self.v128_consts,
            v128_const_index: self.v128_const_index,
            consts: self.consts,
            const_slots: self.const_slots,
            v128_slots: self.v128_slots,
            handlers: self.handlers,
        };
        code
    }

    fn finish_code(&mut self, metered: bool) -> Result<FuncCode> {
        // Slots: locals, constants and the deepest operand stack, each numbered now.
        let num_locals = self.num_locals;
        let num_consts = self.consts.len() as u32;
        let frame_size = num_locals as u64 + num_consts as u64 + self.max_height as u64 + 1;
        if frame_size > u32::MAX as u64 / 2 || self.max_height as u64 >= STACK_MARK as u64 {
            return Err(Error::unsupported("function frame too large"));
        }
        peephole::thread_jumps(&mut self.instrs);
        let consts = &self.consts;
        peephole::fuse_counters(&mut self.instrs, |s| const_value(consts, s));
        if metered {
            metering::use_metered_forms(&mut self.instrs);
        }
        peephole::fuse_pairs(&mut self.instrs);
        let place = |s| final_slot(s, num_locals, num_consts);
        code::map_slots(&mut self.instrs, place);
        for h in self.handlers.iter_mut() {
            h.dst = place(h.dst);
        }
        // The instructions move into the code (which shrinks them to size in place);
        // the next function reserves its own from its body's length.
        let instrs = Code::new(take(&mut self.instrs), frame_size as u32).map_err(|e| {
            Error::internal(format!("interpreter: translated code failed checks: {e}"))
        })?;
        let num_instrs = instrs.len() as u32;
        for h in &self.handlers {
            // The unwinder resumes at `target` and writes the label's values from `dst` on
            // (through checked accesses, but a translator bug should fail here, not there).
            if h.target >= num_instrs
                || h.start > h.end
                || h.end > num_instrs
                || h.dst >= frame_size as u32
            {
                return Err(Error::internal(format!(
                    "interpreter: a catch clause is out of its function: {h:?}"
                )));
            }
        }
        let mut head_consts = [0; 4];
        for (h, c) in head_consts.iter_mut().zip(&self.consts) {
            *h = *c;
        }
        Ok(FuncCode {
            instrs,
            head_consts,
            consts: self.consts.clone(),
            v128_consts: self.v128_consts.clone(),
            num_params: self.num_params,
            num_locals,
            handlers: self.handlers.as_slice().into(),
        })
    }
}
