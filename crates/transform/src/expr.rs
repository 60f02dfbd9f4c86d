//! Arithmetic expressions in sizes and positions (`w-iw_div_2`, `h-ch_mul_0.8_add_20`,
//! `x-iw_div_4`), as ImageKit writes
//! them: values (positive numbers or variables) and operators joined by `_`, evaluated with the
//! usual precedence (`pow` first, then `mul`/`div`/`mod`, then `add`/`sub`). Variables: the
//! asset's initial width, height and aspect ratio (`iw`, `ih`, `iar`) and the current ones
//! before the step (`cw`, `ch`, `car`), and inside a layer its parent's (`bw`, `bh`, `bar`:
//! the "base" the layer is drawn on). An expression is kept as written in the canonical text
//! and resolved to pixels when its step runs.

use std::fmt;

/// Longest expression accepted: values and operators together.
const MAX_TOKENS: usize = 9;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    Number(f64),
    Variable(Variable),
    Operator(Operator),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variable {
    InitialWidth,
    InitialHeight,
    InitialAspect,
    CurrentWidth,
    CurrentHeight,
    CurrentAspect,
    BaseWidth,
    BaseHeight,
    BaseAspect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

/// A parsed expression (fixed size, so steps stay `Copy`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expr {
    tokens: [Token; MAX_TOKENS],
    len: usize,
}

/// What an expression's variables stand for when its step runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sizes {
    pub initial: (u32, u32),
    pub current: (u32, u32),
    /// Inside a layer: the size of the image it is drawn on.
    pub base: Option<(u32, u32)>,
}

impl Expr {
    /// Parses `text`; `None` when it is no expression (plain numbers are not expressions).
    pub fn parse(text: &str) -> Option<Result<Self, &'static str>> {
        let parts: Vec<&str> = text.split('_').collect();
        let has_variable = parts.iter().any(|p| variable(p).is_some());
        if parts.len() < 3 && !has_variable {
            return None;
        }
        if parts.len() > MAX_TOKENS || parts.len().is_multiple_of(2) {
            return Some(Err(
                "expected value_operator_value…, e.g. iw_div_2 (at most 5 values)",
            ));
        }
        let mut tokens = [Token::Number(0.0); MAX_TOKENS];
        for (i, part) in parts.iter().enumerate() {
            let token = if i % 2 == 0 {
                match (variable(part), part.parse::<f64>()) {
                    (Some(v), _) => Token::Variable(v),
                    (None, Ok(n)) if n.is_finite() && n >= 0.0 => Token::Number(n),
                    _ => {
                        return Some(Err(
                            "a value is a positive number or iw, ih, iar, cw, ch, car, bw, bh, bar",
                        ));
                    }
                }
            } else {
                match operator(part) {
                    Some(op) => Token::Operator(op),
                    None => return Some(Err("an operator is add, sub, mul, div, mod or pow")),
                }
            };
            tokens[i] = token;
        }
        Some(Ok(Self {
            tokens,
            len: parts.len(),
        }))
    }

    /// The value for `sizes`; `None` when it divides by zero or is not a finite number.
    pub fn eval(&self, sizes: Sizes) -> Option<f64> {
        let value = |token: Token| match token {
            Token::Number(n) => n,
            Token::Variable(v) => v.value(sizes),
            Token::Operator(_) => f64::NAN,
        };
        // Sums of products of powers: one pass per precedence level.
        let tokens = &self.tokens[..self.len];
        let mut sum = 0.0;
        let mut sign = 1.0;
        let mut i = 0;
        while i < tokens.len() {
            let (product, next) = product(tokens, i, &value)?;
            sum += sign * product;
            i = next;
            match tokens.get(i) {
                Some(Token::Operator(Operator::Add)) => sign = 1.0,
                Some(Token::Operator(Operator::Sub)) => sign = -1.0,
                _ => {}
            }
            i += 1;
        }
        sum.is_finite().then_some(sum)
    }

    /// Whether it names the parent's size (`bw`, `bh`, `bar`), which only layers have.
    pub fn uses_base(&self) -> bool {
        self.tokens[..self.len].iter().any(|t| {
            matches!(
                t,
                Token::Variable(Variable::BaseWidth | Variable::BaseHeight | Variable::BaseAspect)
            )
        })
    }
}

/// The product starting at `i` (values joined by `mul`/`div`/`mod`, each a power); returns it
/// and the index of the operator after it.
fn product(tokens: &[Token], mut i: usize, value: &dyn Fn(Token) -> f64) -> Option<(f64, usize)> {
    let (mut result, next) = power(tokens, i, value);
    i = next;
    while let Some(Token::Operator(op @ (Operator::Mul | Operator::Div | Operator::Mod))) =
        tokens.get(i)
    {
        let (operand, next) = power(tokens, i + 1, value);
        result = match op {
            Operator::Mul => result * operand,
            Operator::Div if operand == 0.0 => return None,
            Operator::Div => result / operand,
            Operator::Mod if operand == 0.0 => return None,
            _ => result % operand,
        };
        i = next;
    }
    Some((result, i))
}

/// The power starting at `i` (`pow` binds tightest, right to left).
fn power(tokens: &[Token], i: usize, value: &dyn Fn(Token) -> f64) -> (f64, usize) {
    let base = value(tokens[i]);
    if let Some(Token::Operator(Operator::Pow)) = tokens.get(i + 1) {
        let (exponent, next) = power(tokens, i + 2, value);
        return (base.powf(exponent), next);
    }
    (base, i + 1)
}

impl Variable {
    fn value(self, sizes: Sizes) -> f64 {
        let ratio = |(w, h): (u32, u32)| w as f64 / h.max(1) as f64;
        match self {
            Variable::InitialWidth => sizes.initial.0 as f64,
            Variable::InitialHeight => sizes.initial.1 as f64,
            Variable::InitialAspect => ratio(sizes.initial),
            Variable::CurrentWidth => sizes.current.0 as f64,
            Variable::CurrentHeight => sizes.current.1 as f64,
            Variable::CurrentAspect => ratio(sizes.current),
            Variable::BaseWidth => sizes.base.map_or(f64::NAN, |b| b.0 as f64),
            Variable::BaseHeight => sizes.base.map_or(f64::NAN, |b| b.1 as f64),
            Variable::BaseAspect => sizes.base.map_or(f64::NAN, ratio),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Variable::InitialWidth => "iw",
            Variable::InitialHeight => "ih",
            Variable::InitialAspect => "iar",
            Variable::CurrentWidth => "cw",
            Variable::CurrentHeight => "ch",
            Variable::CurrentAspect => "car",
            Variable::BaseWidth => "bw",
            Variable::BaseHeight => "bh",
            Variable::BaseAspect => "bar",
        }
    }
}

fn variable(text: &str) -> Option<Variable> {
    Some(match text {
        "iw" => Variable::InitialWidth,
        "ih" => Variable::InitialHeight,
        "iar" => Variable::InitialAspect,
        "cw" => Variable::CurrentWidth,
        "ch" => Variable::CurrentHeight,
        "car" => Variable::CurrentAspect,
        "bw" => Variable::BaseWidth,
        "bh" => Variable::BaseHeight,
        "bar" => Variable::BaseAspect,
        _ => return None,
    })
}

fn operator(text: &str) -> Option<Operator> {
    Some(match text {
        "add" => Operator::Add,
        "sub" => Operator::Sub,
        "mul" => Operator::Mul,
        "div" => Operator::Div,
        "mod" => Operator::Mod,
        "pow" => Operator::Pow,
        _ => return None,
    })
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, token) in self.tokens[..self.len].iter().enumerate() {
            if i > 0 {
                f.write_str("_")?;
            }
            match token {
                Token::Number(n) => write!(f, "{n}")?,
                Token::Variable(v) => f.write_str(v.name())?,
                Token::Operator(op) => f.write_str(match op {
                    Operator::Add => "add",
                    Operator::Sub => "sub",
                    Operator::Mul => "mul",
                    Operator::Div => "div",
                    Operator::Mod => "mod",
                    Operator::Pow => "pow",
                })?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str) -> Option<f64> {
        let sizes = Sizes {
            initial: (400, 250),
            current: (200, 100),
            base: Some((1000, 500)),
        };
        Expr::parse(text).unwrap().unwrap().eval(sizes)
    }

    #[test]
    fn expressions_follow_the_usual_precedence() {
        assert_eq!(eval("iw_div_2"), Some(200.0));
        assert_eq!(eval("iw"), Some(400.0));
        assert_eq!(eval("ih_mul_0.8_add_iw_mul_0.4"), Some(360.0));
        assert_eq!(eval("cw_sub_20_sub_10"), Some(170.0));
        assert_eq!(eval("2_pow_3_mul_ch"), Some(800.0));
        assert_eq!(eval("ch_mod_30"), Some(10.0));
        assert_eq!(eval("iar_mul_100"), Some(160.0));
        assert_eq!(eval("iw_div_0"), None);
        assert_eq!(eval("bw_mul_0.1"), Some(100.0));
        assert_eq!(eval("bar_mul_10"), Some(20.0));
        let outside = Sizes {
            initial: (1, 1),
            current: (1, 1),
            base: None,
        };
        let expression = Expr::parse("bw_div_2").unwrap().unwrap();
        assert!(expression.uses_base());
        assert_eq!(expression.eval(outside), None, "no parent outside a layer");
        assert_eq!(
            Expr::parse("ih_mul_0.80_add_iw")
                .unwrap()
                .unwrap()
                .to_string(),
            "ih_mul_0.8_add_iw"
        );
    }

    #[test]
    fn only_expressions_parse_as_expressions() {
        assert!(Expr::parse("300").is_none());
        assert!(Expr::parse("0.5").is_none());
        for bad in ["iw_div", "iw_times_2", "iw_div_-2", "lw_mul_0.5", "x_add_2"] {
            assert!(
                matches!(Expr::parse(bad), Some(Err(_))),
                "{bad} should be refused"
            );
        }
    }
}
