//! Constants, comparisons, arithmetic and conversions. Division, remainder and
//! float-to-int truncation check their trap conditions explicitly before the Cranelift
//! instruction (whose own checks would raise a machine trap).

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Type, Value, types};
use wasmparser::Operator;

use super::Translator;
use crate::error::{Result, TrapKind};

use types::{F32, F64, I32, I64};

impl Translator<'_, '_> {
    fn bool_to_i32(&mut self, c: Value) -> Value {
        self.b.ins().uextend(I32, c)
    }

    fn icmp_op(&mut self, cc: IntCC) {
        let (a, b) = self.pop2();
        let c = self.b.ins().icmp(cc, a, b);
        let v = self.bool_to_i32(c);
        self.push(v);
    }

    fn fcmp_op(&mut self, cc: FloatCC) {
        let (a, b) = self.pop2();
        let c = self.b.ins().fcmp(cc, a, b);
        let v = self.bool_to_i32(c);
        self.push(v);
    }

    fn eqz(&mut self) {
        let a = self.pop();
        let c = self.b.ins().icmp_imm_s(IntCC::Equal, a, 0);
        let v = self.bool_to_i32(c);
        self.push(v);
    }

    fn div_rem(&mut self, ty: Type, signed: bool, rem: bool) {
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
    }

    /// Checked float-to-int truncation: NaN is an invalid conversion, a value whose
    /// truncation does not fit is an overflow. `lo`/`hi` are exclusive bounds (`lo_incl`
    /// makes the lower one inclusive, for bounds that are exactly representable).
    fn trunc(&mut self, to: Type, signed: bool) {
        let x = self.pop();
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
    }

    fn extend_from(&mut self, narrow: Type, to: Type) {
        let a = self.pop();
        let n = self.b.ins().ireduce(narrow, a);
        let v = self.b.ins().sextend(to, n);
        self.push(v);
    }

    pub(super) fn numeric_op(&mut self, op: &Operator<'_>) -> Result<bool> {
        macro_rules! bin {
            ($m:ident) => {{
                let (a, b) = self.pop2();
                let v = self.b.ins().$m(a, b);
                self.push(v);
            }};
        }
        macro_rules! un {
            ($m:ident) => {{
                let a = self.pop();
                let v = self.b.ins().$m(a);
                self.push(v);
            }};
        }
        macro_rules! conv {
            ($m:ident, $t:expr) => {{
                let a = self.pop();
                let v = self.b.ins().$m($t, a);
                self.push(v);
            }};
        }
        macro_rules! bitcast {
            ($t:expr) => {{
                let a = self.pop();
                let v = self.b.ins().bitcast($t, MemFlagsData::new(), a);
                self.push(v);
            }};
        }
        use Operator as O;
        match op {
            O::I32Const { value } => {
                let v = self.b.ins().iconst(I32, *value as i64);
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.b.ins().iconst(I64, *value);
                self.push(v);
            }
            O::F32Const { value } => {
                let v =
                    self.b
                        .ins()
                        .f32const(cranelift_codegen::ir::immediates::Ieee32::with_bits(
                            value.bits(),
                        ));
                self.push(v);
            }
            O::F64Const { value } => {
                let v =
                    self.b
                        .ins()
                        .f64const(cranelift_codegen::ir::immediates::Ieee64::with_bits(
                            value.bits(),
                        ));
                self.push(v);
            }
            O::I32Eqz | O::I64Eqz => self.eqz(),
            O::I32Eq | O::I64Eq => self.icmp_op(IntCC::Equal),
            O::I32Ne | O::I64Ne => self.icmp_op(IntCC::NotEqual),
            O::I32LtS | O::I64LtS => self.icmp_op(IntCC::SignedLessThan),
            O::I32LtU | O::I64LtU => self.icmp_op(IntCC::UnsignedLessThan),
            O::I32GtS | O::I64GtS => self.icmp_op(IntCC::SignedGreaterThan),
            O::I32GtU | O::I64GtU => self.icmp_op(IntCC::UnsignedGreaterThan),
            O::I32LeS | O::I64LeS => self.icmp_op(IntCC::SignedLessThanOrEqual),
            O::I32LeU | O::I64LeU => self.icmp_op(IntCC::UnsignedLessThanOrEqual),
            O::I32GeS | O::I64GeS => self.icmp_op(IntCC::SignedGreaterThanOrEqual),
            O::I32GeU | O::I64GeU => self.icmp_op(IntCC::UnsignedGreaterThanOrEqual),
            O::F32Eq | O::F64Eq => self.fcmp_op(FloatCC::Equal),
            O::F32Ne | O::F64Ne => self.fcmp_op(FloatCC::NotEqual),
            O::F32Lt | O::F64Lt => self.fcmp_op(FloatCC::LessThan),
            O::F32Gt | O::F64Gt => self.fcmp_op(FloatCC::GreaterThan),
            O::F32Le | O::F64Le => self.fcmp_op(FloatCC::LessThanOrEqual),
            O::F32Ge | O::F64Ge => self.fcmp_op(FloatCC::GreaterThanOrEqual),

            O::I32Clz | O::I64Clz => un!(clz),
            O::I32Ctz | O::I64Ctz => un!(ctz),
            O::I32Popcnt | O::I64Popcnt => un!(popcnt),
            O::I32Add | O::I64Add => bin!(iadd),
            O::I32Sub | O::I64Sub => bin!(isub),
            O::I32Mul | O::I64Mul => bin!(imul),
            O::I32DivS => self.div_rem(I32, true, false),
            O::I32DivU => self.div_rem(I32, false, false),
            O::I32RemS => self.div_rem(I32, true, true),
            O::I32RemU => self.div_rem(I32, false, true),
            O::I64DivS => self.div_rem(I64, true, false),
            O::I64DivU => self.div_rem(I64, false, false),
            O::I64RemS => self.div_rem(I64, true, true),
            O::I64RemU => self.div_rem(I64, false, true),
            O::I32And | O::I64And => bin!(band),
            O::I32Or | O::I64Or => bin!(bor),
            O::I32Xor | O::I64Xor => bin!(bxor),
            O::I32Shl | O::I64Shl => bin!(ishl),
            O::I32ShrS | O::I64ShrS => bin!(sshr),
            O::I32ShrU | O::I64ShrU => bin!(ushr),
            O::I32Rotl | O::I64Rotl => bin!(rotl),
            O::I32Rotr | O::I64Rotr => bin!(rotr),

            O::F32Abs | O::F64Abs => un!(fabs),
            O::F32Neg | O::F64Neg => un!(fneg),
            O::F32Ceil | O::F64Ceil => un!(ceil),
            O::F32Floor | O::F64Floor => un!(floor),
            O::F32Trunc | O::F64Trunc => un!(trunc),
            O::F32Nearest | O::F64Nearest => un!(nearest),
            O::F32Sqrt | O::F64Sqrt => un!(sqrt),
            O::F32Add | O::F64Add => bin!(fadd),
            O::F32Sub | O::F64Sub => bin!(fsub),
            O::F32Mul | O::F64Mul => bin!(fmul),
            O::F32Div | O::F64Div => bin!(fdiv),
            O::F32Min | O::F64Min => bin!(fmin),
            O::F32Max | O::F64Max => bin!(fmax),
            O::F32Copysign | O::F64Copysign => bin!(fcopysign),

            O::I32WrapI64 => conv!(ireduce, I32),
            O::I64ExtendI32S => conv!(sextend, I64),
            O::I64ExtendI32U => conv!(uextend, I64),
            O::I32TruncF32S | O::I32TruncF64S => self.trunc(I32, true),
            O::I32TruncF32U | O::I32TruncF64U => self.trunc(I32, false),
            O::I64TruncF32S | O::I64TruncF64S => self.trunc(I64, true),
            O::I64TruncF32U | O::I64TruncF64U => self.trunc(I64, false),
            O::I32TruncSatF32S | O::I32TruncSatF64S => conv!(fcvt_to_sint_sat, I32),
            O::I32TruncSatF32U | O::I32TruncSatF64U => conv!(fcvt_to_uint_sat, I32),
            O::I64TruncSatF32S | O::I64TruncSatF64S => conv!(fcvt_to_sint_sat, I64),
            O::I64TruncSatF32U | O::I64TruncSatF64U => conv!(fcvt_to_uint_sat, I64),
            O::F32ConvertI32S | O::F32ConvertI64S => conv!(fcvt_from_sint, F32),
            O::F32ConvertI32U | O::F32ConvertI64U => conv!(fcvt_from_uint, F32),
            O::F64ConvertI32S | O::F64ConvertI64S => conv!(fcvt_from_sint, F64),
            O::F64ConvertI32U | O::F64ConvertI64U => conv!(fcvt_from_uint, F64),
            O::F32DemoteF64 => conv!(fdemote, F32),
            O::F64PromoteF32 => conv!(fpromote, F64),
            O::I32ReinterpretF32 => bitcast!(I32),
            O::I64ReinterpretF64 => bitcast!(I64),
            O::F32ReinterpretI32 => bitcast!(F32),
            O::F64ReinterpretI64 => bitcast!(F64),
            O::I32Extend8S => self.extend_from(types::I8, I32),
            O::I32Extend16S => self.extend_from(types::I16, I32),
            O::I64Extend8S => self.extend_from(types::I8, I64),
            O::I64Extend16S => self.extend_from(types::I16, I64),
            O::I64Extend32S => self.extend_from(I32, I64),
            _ => return Ok(false),
        }
        Ok(true)
    }
}
