//! SymNet (PDE-Net 2.0, Long, Lu & Dong 2019, §2.2): a network of products that is a
//! polynomial of its inputs and can be read back as one.
//!
//! With inputs `z⁰ = (u, u_x, u_y, …) ∈ ℝⁿ`, hidden layer `l = 1 … L` computes two linear
//! combinations of everything so far and appends their product,
//! `(a, b) = W_l z^{l−1} + c_l`, `z^l = (z^{l−1}, a·b) ∈ ℝ^{n+l}`, and the output is
//! `w · z^L + c`. The output is a polynomial of degree at most `2^L`; [`SymNet::expand`]
//! multiplies it out into monomials of the input names.

use std::collections::BTreeMap;
use std::fmt;

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::Tensor;
use sysdyn_core::device::SysDevice;
use sysdyn_core::rng::SeededRng;

use crate::PhysicsError;

/// A SymNet (module docs). Inputs `[rows, n]`, output `[rows, 1]`.
#[derive(Module, Debug)]
pub struct SymNet {
    hidden: Vec<Linear>,
    output: Linear,
    #[module(skip)]
    names: Vec<String>,
}

fn linear(
    weight: Vec<f64>,
    bias: Vec<f64>,
    inputs: usize,
    outputs: usize,
    device: &SysDevice,
) -> Result<Linear, PhysicsError> {
    let mismatch = |e: sysdyn_core::ShapeMismatch| PhysicsError::SizeMismatch {
        what: "SymNet layer weights",
        expected: e.expected.iter().product(),
        got: e.got.iter().product(),
    };
    let mut layer = LinearConfig::new(inputs, outputs).init(device.device());
    let w = device.tensor(weight, [inputs, outputs]).map_err(mismatch)?;
    let b = device.tensor(bias, [outputs]).map_err(mismatch)?;
    layer.weight = Param::from_tensor(w);
    layer.bias = Some(Param::from_tensor(b));
    Ok(layer)
}

/// One hidden layer's values: `weight` is `[inputs, 2]` row-major (burn's `[fan_in, fan_out]`
/// layout: row `i` holds input `i`'s weights in `a` and `b`), `bias` is `[c_a, c_b]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductLayer {
    /// `[inputs, 2]`, row-major.
    pub weight: Vec<f64>,
    /// `[2]`.
    pub bias: Vec<f64>,
}

impl SymNet {
    /// A SymNet on the inputs `names` with `hidden` product layers, weights drawn
    /// `N(0, scale²)` from `rng` and biases zero.
    pub fn new(
        names: &[&str],
        hidden: usize,
        scale: f64,
        rng: &mut SeededRng,
        device: &SysDevice,
    ) -> Result<Self, PhysicsError> {
        let n = names.len();
        let layers = (0..hidden)
            .map(|l| ProductLayer {
                weight: rng.normals((n + l) * 2).iter().map(|w| w * scale).collect(),
                bias: vec![0.0; 2],
            })
            .collect();
        let output = rng.normals(n + hidden).iter().map(|w| w * scale).collect();
        Self::from_weights(names, layers, output, 0.0, device)
    }

    /// A SymNet with the given weights: hidden layer `l` takes `n + l` inputs; the output layer
    /// takes `n + L` weights and a bias.
    pub fn from_weights(
        names: &[&str],
        layers: Vec<ProductLayer>,
        output_weight: Vec<f64>,
        output_bias: f64,
        device: &SysDevice,
    ) -> Result<Self, PhysicsError> {
        let n = names.len();
        if n == 0 {
            return Err(PhysicsError::Empty {
                what: "SymNet inputs",
                unit: "input name",
            });
        }
        let mut hidden = Vec::with_capacity(layers.len());
        for (l, layer) in layers.into_iter().enumerate() {
            if layer.weight.len() != (n + l) * 2 || layer.bias.len() != 2 {
                return Err(PhysicsError::SizeMismatch {
                    what: "SymNet hidden layer weights ((inputs + layer) × 2 and 2 biases)",
                    expected: (n + l) * 2 + 2,
                    got: layer.weight.len() + layer.bias.len(),
                });
            }
            hidden.push(linear(layer.weight, layer.bias, n + l, 2, device)?);
        }
        let width = n + hidden.len();
        if output_weight.len() != width {
            return Err(PhysicsError::SizeMismatch {
                what: "SymNet output weights (inputs + hidden layers)",
                expected: width,
                got: output_weight.len(),
            });
        }
        let output = linear(output_weight, vec![output_bias], width, 1, device)?;
        Ok(SymNet {
            hidden,
            output,
            names: names.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// The input names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The number of hidden product layers.
    pub fn depth(&self) -> usize {
        self.hidden.len()
    }

    /// `[rows, n] → [rows, 1]`.
    pub fn forward(&self, inputs: Tensor<2>) -> Tensor<2> {
        let mut z = inputs;
        for layer in &self.hidden {
            let ab = layer.forward(z.clone());
            let product = ab.clone().narrow(1, 0, 1) * ab.narrow(1, 1, 1);
            z = Tensor::cat(vec![z, product], 1);
        }
        self.output.forward(z)
    }

    /// `Σ |w|` over every weight (not the biases): PDE-Net 2.0's sparsity penalty on SymNet.
    pub fn weight_l1(&self) -> Tensor<1> {
        let mut total = self.output.weight.val().abs().sum();
        for layer in &self.hidden {
            total = total + layer.weight.val().abs().sum();
        }
        total
    }

    /// The polynomial the network computes, multiplied out (no pruning).
    pub fn expand(&self) -> Result<Polynomial, PhysicsError> {
        let n = self.names.len();
        let mut terms: Vec<Polynomial> = (0..n).map(|i| Polynomial::variable(n, i)).collect();
        for layer in &self.hidden {
            let w = host(layer.weight.val(), "SymNet hidden weights")?;
            let b = match &layer.bias {
                Some(bias) => host(bias.val(), "SymNet hidden biases")?,
                None => vec![0.0; 2],
            };
            let combination = |column: usize| {
                let mut p = Polynomial::constant(n, b[column]);
                for (i, t) in terms.iter().enumerate() {
                    p.add_scaled(t, w[i * 2 + column]);
                }
                p
            };
            let product = combination(0).mul(&combination(1));
            terms.push(product);
        }
        let w = host(self.output.weight.val(), "SymNet output weights")?;
        let b = match &self.output.bias {
            Some(bias) => host(bias.val(), "SymNet output bias")?[0],
            None => 0.0,
        };
        let mut out = Polynomial::constant(n, b);
        for (i, t) in terms.iter().enumerate() {
            out.add_scaled(t, w[i]);
        }
        out.names = self.names.clone();
        Ok(out)
    }
}

fn host<const D: usize>(t: Tensor<D>, what: &'static str) -> Result<Vec<f64>, PhysicsError> {
    t.detach()
        .try_into_vec_as::<f64>()
        .map_err(|e| PhysicsError::HostRead {
            what,
            reason: format!("{e:?}"),
        })
}

/// A polynomial in named variables: monomials (exponent per variable) and coefficients.
#[derive(Debug, Clone, PartialEq)]
pub struct Polynomial {
    names: Vec<String>,
    terms: BTreeMap<Vec<u32>, f64>,
}

impl Polynomial {
    fn constant(n: usize, c: f64) -> Self {
        let mut terms = BTreeMap::new();
        terms.insert(vec![0; n], c);
        Polynomial {
            names: Vec::new(),
            terms,
        }
    }

    fn variable(n: usize, i: usize) -> Self {
        let mut e = vec![0; n];
        e[i] = 1;
        let mut terms = BTreeMap::new();
        terms.insert(e, 1.0);
        Polynomial {
            names: Vec::new(),
            terms,
        }
    }

    fn add_scaled(&mut self, other: &Polynomial, s: f64) {
        for (e, c) in &other.terms {
            *self.terms.entry(e.clone()).or_insert(0.0) += s * c;
        }
    }

    fn mul(&self, other: &Polynomial) -> Polynomial {
        let mut terms = BTreeMap::new();
        for (e1, c1) in &self.terms {
            for (e2, c2) in &other.terms {
                let e: Vec<u32> = e1.iter().zip(e2).map(|(a, b)| a + b).collect();
                *terms.entry(e).or_insert(0.0) += c1 * c2;
            }
        }
        Polynomial {
            names: Vec::new(),
            terms,
        }
    }

    /// The variable names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The same polynomial without the terms whose `|coefficient| < threshold`.
    pub fn pruned(&self, threshold: f64) -> Polynomial {
        Polynomial {
            names: self.names.clone(),
            terms: self
                .terms
                .iter()
                .filter(|(_, c)| c.abs() >= threshold)
                .map(|(e, c)| (e.clone(), *c))
                .collect(),
        }
    }

    /// The monomials with their coefficients, each monomial named as printed (`"u u_x"`,
    /// `"u^2"`, `"1"` for the constant), by degree, then in the inputs' order.
    pub fn terms(&self) -> Vec<(String, f64)> {
        let mut ordered: Vec<(&Vec<u32>, f64)> = self.terms.iter().map(|(e, c)| (e, *c)).collect();
        ordered.sort_by(|(a, _), (b, _)| {
            let degree = |e: &Vec<u32>| e.iter().sum::<u32>();
            degree(a).cmp(&degree(b)).then_with(|| b.cmp(a))
        });
        ordered
            .into_iter()
            .map(|(e, c)| (self.monomial_name(e), c))
            .collect()
    }

    /// The value at `point` (one value per variable).
    pub fn evaluate(&self, point: &[f64]) -> Result<f64, PhysicsError> {
        if let Some(e) = self.terms.keys().next()
            && e.len() != point.len()
        {
            return Err(PhysicsError::SizeMismatch {
                what: "polynomial evaluation point (one value per variable)",
                expected: e.len(),
                got: point.len(),
            });
        }
        Ok(self
            .terms
            .iter()
            .map(|(e, c)| {
                c * e
                    .iter()
                    .zip(point)
                    .map(|(p, x)| x.powi(*p as i32))
                    .product::<f64>()
            })
            .sum())
    }

    /// The number of monomials.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// Whether no monomial is left.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The coefficient of the monomial named `monomial` (as [`Polynomial::terms`] prints it),
    /// 0 when absent.
    pub fn coefficient(&self, monomial: &str) -> f64 {
        self.terms()
            .into_iter()
            .find(|(name, _)| name == monomial)
            .map_or(0.0, |(_, c)| c)
    }

    fn monomial_name(&self, exponents: &[u32]) -> String {
        let factors: Vec<String> = exponents
            .iter()
            .enumerate()
            .filter(|(_, p)| **p > 0)
            .map(|(i, p)| {
                let name = self
                    .names
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("z{i}"));
                if *p == 1 { name } else { format!("{name}^{p}") }
            })
            .collect();
        if factors.is_empty() {
            "1".to_string()
        } else {
            factors.join(" ")
        }
    }
}

/// `0.499 u_xx + 0.502 u_yy − 1.002 u u_x` (the constant printed alone; `0` when empty).
impl fmt::Display for Polynomial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let terms = self.terms();
        if terms.is_empty() {
            return write!(f, "0");
        }
        for (n, (name, c)) in terms.iter().enumerate() {
            let sign = if *c < 0.0 { "−" } else { "+" };
            let magnitude = c.abs();
            match (n, name.as_str()) {
                (0, "1") => write!(f, "{}{magnitude:.4}", if *c < 0.0 { "−" } else { "" })?,
                (0, _) => write!(
                    f,
                    "{}{magnitude:.4} {name}",
                    if *c < 0.0 { "−" } else { "" }
                )?,
                (_, "1") => write!(f, " {sign} {magnitude:.4}")?,
                _ => write!(f, " {sign} {magnitude:.4} {name}")?,
            }
        }
        Ok(())
    }
}
