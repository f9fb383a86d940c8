//! Constants, comparisons, arithmetic and conversions. Division, remainder and
//! float-to-int truncation check their trap conditions explicitly before the Cranelift
//! instruction (whose own checks would raise a machine trap).

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Type, Value, types};
use cranelift_frontend::FuncInstBuilder;

use super::Translator;
use crate::error::{Result, TrapKind};

use types::{F32, I32, I64};

impl Translator<'_, '_> {
    fn bool_to_i32(&mut self, c: Value) -> Value {
        self.b.ins().uextend(I32, c)
    }

    pub(super) fn i32_const(&mut self, value: i32) -> Result<()> {
        let v = self.b.ins().iconst(I32, value as i64);
        self.push(v);
        Ok(())
    }

    pub(super) fn i64_const(&mut self, value: i64) -> Result<()> {
        let v = self.b.ins().iconst(I64, value);
        self.push(v);
        Ok(())
    }

    pub(super) fn f32_const(&mut self, value: wasmparser::Ieee32) -> Result<()> {
        let v = self.b.ins().f32const(Ieee32::with_bits(value.bits()));
        self.push(v);
        Ok(())
    }

    pub(super) fn f64_const(&mut self, value: wasmparser::Ieee64) -> Result<()> {
        let v = self.b.ins().f64const(Ieee64::with_bits(value.bits()));
        self.push(v);
        Ok(())
    }

    /// An operator that pops one operand and pushes what `build` makes of it.
    pub(super) fn unary(
        &mut self,
        build: impl FnOnce(FuncInstBuilder<'_, '_>, Value) -> Value,
    ) -> Result<()> {
        let a = self.pop();
        let v = build(self.b.ins(), a);
        self.push(v);
        Ok(())
    }

    /// An operator that pops two operands and pushes what `build` makes of them.
    pub(super) fn binary(
        &mut self,
        build: impl FnOnce(FuncInstBuilder<'_, '_>, Value, Value) -> Value,
    ) -> Result<()> {
        let (a, b) = self.pop2();
        let v = build(self.b.ins(), a, b);
        self.push(v);
        Ok(())
    }

    /// `reinterpret`: the operand's bits as a `to`.
    pub(super) fn reinterpret(&mut self, to: Type) -> Result<()> {
        let a = self.pop();
        let v = self.b.ins().bitcast(to, MemFlagsData::new(), a);
        self.push(v);
        Ok(())
    }

    pub(super) fn icmp(&mut self, cc: IntCC) -> Result<()> {
        let (a, b) = self.pop2();
        let c = self.b.ins().icmp(cc, a, b);
        let v = self.bool_to_i32(c);
        self.push(v);
        Ok(())
    }

    pub(super) fn fcmp(&mut self, cc: FloatCC) -> Result<()> {
        let (a, b) = self.pop2();
        let c = self.b.ins().fcmp(cc, a, b);
        let v = self.bool_to_i32(c);
        self.push(v);
        Ok(())
    }

    pub(super) fn eqz(&mut self) -> Result<()> {
        let a = self.pop();
        let c = self.b.ins().icmp_imm_s(IntCC::Equal, a, 0);
        let v = self.bool_to_i32(c);
        self.push(v);
        Ok(())
    }

    pub(super) fn div_rem(&mut self, ty: Type, signed: bool, rem: bool) -> Result<()> {
        let (a, b) = self.pop2();
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, b, 0);
        self.trap_if(zero, TrapKind::IntegerDivideByZero);
        let v = match (signed, rem) {
            (false, false) => self.b.ins().udiv(a, b),
            (false, true) => self.b.ins().urem(a, b),
            (true, false) => {
                let min = if ty == I32 { i32::MIN as i64 } else { i64::MIN };
                let a_min = self.b.ins().icmp_imm_s(IntCC::Equal, a, min);
                let b_neg1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
                let both = self.b.ins().band(a_min, b_neg1);
                self.trap_if(both, TrapKind::IntegerOverflow);
                self.b.ins().sdiv(a, b)
            }
            (true, true) => {
                // x rem -1 is 0; dividing by 1 instead avoids the machine's overflow.
                let b_neg1 = self.b.ins().icmp_imm_s(IntCC::Equal, b, -1);
                let one = self.b.ins().iconst(ty, 1);
                let d = self.b.ins().select(b_neg1, one, b);
                self.b.ins().srem(a, d)
            }
        };
        self.push(v);
        Ok(())
    }

    /// Checked float-to-int truncation: NaN is an invalid conversion, a value whose
    /// truncation does not fit is an overflow. `lo`/`hi` are exclusive bounds (`lo_incl`
    /// makes the lower one inclusive, for bounds that are exactly representable).
    /// With signal traps, Cranelift's own checks of `fcvt_to_sint`/`fcvt_to_uint`, which
    /// trap the same way with their own codes (trap sites, `compile::emit`): 3 fewer
    /// comparisons, and no `trapnz`, per conversion.
    pub(super) fn trunc(&mut self, to: Type, signed: bool) -> Result<()> {
        let x = self.pop();
        if self.env.options.signal_traps {
            let v = match signed {
                true => self.b.ins().fcvt_to_sint(to, x),
                false => self.b.ins().fcvt_to_uint(to, x),
            };
            self.push(v);
            return Ok(());
        }
        let from = self.b.func.dfg.value_type(x);
        let nan = self.b.ins().fcmp(FloatCC::Unordered, x, x);
        self.trap_if(nan, TrapKind::InvalidConversionToInteger);
        let (lo, lo_incl, hi): (f64, bool, f64) = match (to, signed) {
            (I32, true) if from == F32 => (-2147483648.0, true, 2147483648.0),
            (I32, true) => (-2147483649.0, false, 2147483648.0),
            (I32, false) => (-1.0, false, 4294967296.0),
            (I64, true) => (-9223372036854775808.0, true, 9223372036854775808.0),
            _ => (-1.0, false, 18446744073709551616.0),
        };
        let (lo_v, hi_v) = if from == F32 {
            (
                self.b.ins().f32const(lo as f32),
                self.b.ins().f32const(hi as f32),
            )
        } else {
            (self.b.ins().f64const(lo), self.b.ins().f64const(hi))
        };
        let lo_cc = if lo_incl {
            FloatCC::LessThan
        } else {
            FloatCC::LessThanOrEqual
        };
        let too_low = self.b.ins().fcmp(lo_cc, x, lo_v);
        let too_high = self.b.ins().fcmp(FloatCC::GreaterThanOrEqual, x, hi_v);
        let out = self.b.ins().bor(too_low, too_high);
        self.trap_if(out, TrapKind::IntegerOverflow);
        let v = if signed {
            self.b.ins().fcvt_to_sint(to, x)
        } else {
            self.b.ins().fcvt_to_uint(to, x)
        };
        self.push(v);
        Ok(())
    }

    /// `extendN_s`: sign-extends the operand's low `narrow` bits to `to`.
    pub(super) fn extend_from(&mut self, narrow: Type, to: Type) -> Result<()> {
        let a = self.pop();
        let n = self.b.ins().ireduce(narrow, a);
        let v = self.b.ins().sextend(to, n);
        self.push(v);
        Ok(())
    }
}
