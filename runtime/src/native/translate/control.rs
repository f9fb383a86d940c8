//! Structured control flow: `block`, `loop`, `if`/`else`, `end`, branches, `return`,
//! `unreachable`, `nop`, `drop`, `select`.
//!
//! After an unconditional branch nothing is translated until the end of the frame (or
//! an `if`'s `else`): `visit` skips every other operator there, and the frames opened
//! in that dead code are only counted (`unreachable_depth`), so that their `else` and
//! `end` are not taken for the live frame's.

use cranelift_codegen::ir::{self, InstBuilder, JumpTableData, Value};
use wasmparser::{BlockType, BrTable};

use super::{Frame, FrameKind, STATUS, Translator, block_args, clif_type, wasm_type};
use crate::error::{Result, TrapKind};
use crate::values::ValType;

impl Translator<'_, '_> {
    fn block_sig(&self, ty: BlockType) -> Result<(Vec<ValType>, Vec<ValType>)> {
        Ok(match ty {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (vec![], vec![wasm_type(t, &self.env.info.types)?]),
            BlockType::FuncType(i) => {
                let ft = &self.env.info.signature(i);
                (ft.params().to_vec(), ft.results().to_vec())
            }
        })
    }

    /// A block with parameters of `tys`, those that are GC references declared as such
    /// (`gc_roots.rs`).
    fn new_block_with(&mut self, tys: &[ValType]) -> ir::Block {
        let block = self.b.create_block();
        for t in tys {
            let v = self.b.append_block_param(block, clif_type(*t));
            self.declare_roots(&[v], &[*t]);
        }
        block
    }

    /// The branch target of the frame `depth` levels out, and how many values it takes.
    pub(super) fn target(&mut self, depth: u32) -> (ir::Block, usize) {
        let i = self.control.len() - 1 - depth as usize;
        let frame = &mut self.control[i];
        match frame.kind {
            FrameKind::Loop { header } => (header, frame.num_params),
            _ => {
                frame.dest_reachable = true;
                (frame.dest, frame.num_results)
            }
        }
    }

    /// Whether the frame opened here is in dead code: then it is only counted.
    fn opens_dead_frame(&mut self) -> bool {
        if !self.reachable {
            self.unreachable_depth += 1;
        }
        !self.reachable
    }

    pub(super) fn unreachable(&mut self) -> Result<()> {
        self.trap_now(TrapKind::Unreachable);
        Ok(())
    }

    pub(super) fn nop(&mut self) -> Result<()> {
        Ok(())
    }

    pub(super) fn drop_operand(&mut self) -> Result<()> {
        self.pop();
        Ok(())
    }

    pub(super) fn select(&mut self) -> Result<()> {
        let (a, b, c) = self.pop3();
        let v = self.b.ins().select(c, a, b);
        self.push(v);
        Ok(())
    }

    /// `select` with a type, which may be a reference type.
    pub(super) fn typed_select(&mut self, ty: wasmparser::ValType) -> Result<()> {
        self.select()?;
        let ty = wasm_type(ty, &self.env.info.types)?;
        let v = *self.stack.last().expect("just pushed");
        self.declare_roots(&[v], &[ty]);
        Ok(())
    }

    pub(super) fn open_block(&mut self, blockty: BlockType) -> Result<()> {
        if self.opens_dead_frame() {
            return Ok(());
        }
        let (params, results) = self.block_sig(blockty)?;
        let dest = self.new_block_with(&results);
        self.push_frame(FrameKind::Block, dest, params.len(), results.len());
        Ok(())
    }

    pub(super) fn open_loop(&mut self, blockty: BlockType) -> Result<()> {
        if self.opens_dead_frame() {
            return Ok(());
        }
        let (params, results) = self.block_sig(blockty)?;
        let header = self.new_block_with(&params);
        let dest = self.new_block_with(&results);
        let args = self.peekn(params.len());
        if self.env.options.interruptible {
            self.interrupt_loop_entry();
        }
        self.b.ins().jump(header, &block_args(&args));
        self.b.switch_to_block(header);
        let height = self.stack.len() - params.len();
        self.stack.truncate(height);
        self.stack.extend_from_slice(self.b.block_params(header));
        self.push_frame(
            FrameKind::Loop { header },
            dest,
            params.len(),
            results.len(),
        );
        if self.env.options.interruptible {
            // In the header, so every back edge runs it.
            self.interrupt_check_at_loop();
        }
        Ok(())
    }

    pub(super) fn open_if(&mut self, blockty: BlockType) -> Result<()> {
        if self.opens_dead_frame() {
            return Ok(());
        }
        let (params, results) = self.block_sig(blockty)?;
        let cond = self.pop();
        let then_block = self.b.create_block();
        let else_block = self.b.create_block();
        let dest = self.new_block_with(&results);
        let param_values = self.peekn(params.len());
        self.b.ins().brif(cond, then_block, &[], else_block, &[]);
        self.b.switch_to_block(then_block);
        self.b.seal_block(then_block);
        let kind = FrameKind::If {
            else_block,
            else_seen: false,
            param_values,
        };
        self.push_frame(kind, dest, params.len(), results.len());
        Ok(())
    }

    /// Opens a control frame whose `num_params` parameters are the top of the operand
    /// stack, ending at `dest`.
    fn push_frame(
        &mut self,
        kind: FrameKind,
        dest: ir::Block,
        num_params: usize,
        num_results: usize,
    ) {
        self.control.push(Frame {
            kind,
            dest,
            num_params,
            num_results,
            height: self.stack.len() - num_params,
            dest_reachable: false,
            facts: self.facts.len(),
        });
    }

    pub(super) fn else_branch(&mut self) -> Result<()> {
        if self.unreachable_depth > 0 {
            // The `else` of an `if` opened in dead code.
            return Ok(());
        }
        let reachable = self.reachable;
        let n = self.control.last().unwrap().num_results;
        let args = if reachable { self.peekn(n) } else { vec![] };
        let frame = self.control.last_mut().unwrap();
        let height = frame.height;
        self.facts.truncate(frame.facts);
        let dest = frame.dest;
        if reachable {
            frame.dest_reachable = true;
        }
        let FrameKind::If {
            else_block,
            else_seen,
            param_values,
        } = &mut frame.kind
        else {
            unreachable!("validated: else closes an if")
        };
        *else_seen = true;
        let else_block = *else_block;
        let param_values = param_values.clone();
        if reachable {
            self.b.ins().jump(dest, &block_args(&args));
        }
        self.stack.truncate(height);
        self.stack.extend(param_values);
        self.b.switch_to_block(else_block);
        self.b.seal_block(else_block);
        self.reachable = true;
        Ok(())
    }

    pub(super) fn br(&mut self, relative_depth: u32) -> Result<()> {
        let (target, n) = self.target(relative_depth);
        let args = self.peekn(n);
        self.b.ins().jump(target, &block_args(&args));
        self.reachable = false;
        Ok(())
    }

    pub(super) fn return_from_function(&mut self) -> Result<()> {
        let depth = self.control.len() as u32 - 1;
        self.br(depth)
    }

    pub(super) fn br_if(&mut self, relative_depth: u32) -> Result<()> {
        let cond = self.pop();
        let (target, n) = self.target(relative_depth);
        let args = self.peekn(n);
        let cont = self.b.create_block();
        self.b
            .ins()
            .brif(cond, target, &block_args(&args), cont, &[]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
        Ok(())
    }

    pub(super) fn br_table(&mut self, targets: BrTable<'_>) -> Result<()> {
        let index = self.pop();
        let mut depths = Vec::with_capacity(targets.len() as usize + 1);
        for t in targets.targets() {
            depths.push(t.map_err(super::wp_error)?);
        }
        let default = targets.default();
        // Each distinct depth gets a block; with arguments, an intermediate block
        // that jumps on with them (the values dominate it).
        let mut blocks = rustc_hash::FxHashMap::default();
        let mut pending = Vec::new();
        for &d in depths.iter().chain(std::iter::once(&default)) {
            if blocks.contains_key(&d) {
                continue;
            }
            let (target, n) = self.target(d);
            if n == 0 {
                blocks.insert(d, target);
            } else {
                let mid = self.b.create_block();
                blocks.insert(d, mid);
                pending.push((mid, target, self.peekn(n)));
            }
        }
        let entries: Vec<ir::BlockCall> = depths
            .iter()
            .map(|d| self.b.func.dfg.block_call(blocks[d], &[]))
            .collect();
        let def = self.b.func.dfg.block_call(blocks[&default], &[]);
        let jt = self.b.create_jump_table(JumpTableData::new(def, &entries));
        self.b.ins().br_table(index, jt);
        for (mid, target, args) in pending {
            self.b.switch_to_block(mid);
            self.b.seal_block(mid);
            self.b.ins().jump(target, &block_args(&args));
        }
        self.reachable = false;
        Ok(())
    }

    pub(super) fn end(&mut self) -> Result<()> {
        if self.unreachable_depth > 0 {
            // The end of a frame opened in dead code.
            self.unreachable_depth -= 1;
            return Ok(());
        }
        let frame = self.control.pop().expect("validated: end closes a frame");
        let mut dest_reachable = frame.dest_reachable;
        if self.reachable {
            let args = self.peekn(frame.num_results);
            self.b.ins().jump(frame.dest, &block_args(&args));
            dest_reachable = true;
        }
        match frame.kind {
            FrameKind::If {
                else_block,
                else_seen: false,
                param_values,
            } => {
                // No `else`: the false branch passes the parameters through.
                self.b.switch_to_block(else_block);
                self.b.seal_block(else_block);
                self.b.ins().jump(frame.dest, &block_args(&param_values));
                dest_reachable = true;
            }
            FrameKind::Loop { header } => self.b.seal_block(header),
            _ => {}
        }
        self.close_try_table();
        self.stack.truncate(frame.height);
        self.facts.truncate(frame.facts);
        self.b.switch_to_block(frame.dest);
        self.b.seal_block(frame.dest);
        let results: Vec<Value> = self.b.block_params(frame.dest).to_vec();
        self.reachable = dest_reachable;
        if self.control.is_empty() {
            if dest_reachable {
                let fuel = self.fuel_left();
                let status = self.b.ins().iconst(STATUS, 0);
                let values: Vec<Value> =
                    std::iter::once(status).chain(results).chain(fuel).collect();
                self.b.ins().return_(&values);
            }
            self.reachable = false;
        } else {
            self.stack.extend(results);
        }
        Ok(())
    }
}
