//! Recurrent networks as discrete dynamical systems `h_{t+1} = F(h_t, x_t)`.
//!
//! Backpropagation through time multiplies the recurrence Jacobians `∂h_{t+1}/∂h_t`, so the
//! gradient of a late loss with respect to an early state shrinks or grows geometrically with
//! their spectral radius (vanishing and exploding gradients). [`jacobian_spectral_radii`]
//! measures that radius along a trajectory for any [`RecurrentCell`].
//!
//! - [`VanillaRnn`]: `h_{t+1} = tanh(h_t W + x_t U + b)`; its Jacobian is
//!   `diag(1 − h_{t+1}²) Wᵀ` (in column form), available in closed form.
//! - [`Gru`]: the gated recurrent unit; the update gate interpolates between keeping the state
//!   and replacing it, which keeps the Jacobian near the identity when the gate is closed.

use burn::module::{Module, Param};
use burn::tensor::{DType, Tensor, TensorData};
use sysdyn_core::State;

use crate::resnet::error::{ResNetError, shape_error};
use crate::resnet::stability::eigenvalues;

/// One step of a recurrent network on a batch: `h: [batch, hidden]`, `x: [batch, input]`.
pub trait RecurrentCell {
    /// Width of the hidden state.
    fn hidden_size(&self) -> usize;
    /// Width of the input.
    fn input_size(&self) -> usize;
    /// `h_{t+1} = F(h_t, x_t)`.
    fn step(&self, h: Tensor<2>, x: Tensor<2>) -> Tensor<2>;

    /// The states `h_0, …, h_T` driven by the inputs `x_0, …, x_{T−1}`.
    fn run(&self, h0: Tensor<2>, inputs: &[Tensor<2>]) -> Result<Vec<Tensor<2>>, ResNetError> {
        check_widths(self, &h0, inputs)?;
        let mut states = vec![h0];
        for x in inputs {
            let next = self.step(states.last().expect("starts with h0").clone(), x.clone());
            states.push(next);
        }
        Ok(states)
    }
}

fn check_widths<C: RecurrentCell + ?Sized>(
    cell: &C,
    h0: &Tensor<2>,
    inputs: &[Tensor<2>],
) -> Result<(), ResNetError> {
    let [batch, hidden] = h0.dims();
    if hidden != cell.hidden_size() {
        return Err(shape_error(
            "initial hidden state",
            format!("must be [batch, {}]", cell.hidden_size()),
            h0.dims().to_vec(),
        ));
    }
    for x in inputs {
        if x.dims() != [batch, cell.input_size()] {
            return Err(shape_error(
                "input",
                format!("must be [{batch}, {}] at every step", cell.input_size()),
                x.dims().to_vec(),
            ));
        }
    }
    Ok(())
}

fn check_matrix(what: &'static str, t: &Tensor<2>, shape: [usize; 2]) -> Result<(), ResNetError> {
    if t.dims() != shape {
        return Err(shape_error(
            what,
            format!("must be {shape:?}"),
            t.dims().to_vec(),
        ));
    }
    Ok(())
}

fn check_vector(what: &'static str, t: &Tensor<1>, n: usize) -> Result<(), ResNetError> {
    if t.dims() != [n] {
        return Err(shape_error(
            what,
            format!("must be [{n}]"),
            t.dims().to_vec(),
        ));
    }
    Ok(())
}

fn row(b: &Tensor<1>) -> Tensor<2> {
    let [n] = b.dims();
    b.clone().reshape([1, n])
}

/// `h_{t+1} = tanh(h_t W + x_t U + b)`.
#[derive(Module, Debug)]
pub struct VanillaRnn {
    /// Recurrent weights `W`, `[hidden, hidden]`.
    pub recurrent: Param<Tensor<2>>,
    /// Input weights `U`, `[input, hidden]`.
    pub input: Param<Tensor<2>>,
    /// Bias `b`, `[hidden]`.
    pub bias: Param<Tensor<1>>,
}

impl VanillaRnn {
    /// A cell from its weights.
    pub fn new(
        recurrent: Tensor<2>,
        input: Tensor<2>,
        bias: Tensor<1>,
    ) -> Result<Self, ResNetError> {
        let [hidden, cols] = recurrent.dims();
        check_matrix("recurrent weights", &recurrent, [hidden, hidden])?;
        let _ = cols;
        let [input_size, _] = input.dims();
        check_matrix("input weights", &input, [input_size, hidden])?;
        check_vector("bias", &bias, hidden)?;
        Ok(VanillaRnn {
            recurrent: Param::from_tensor(recurrent),
            input: Param::from_tensor(input),
            bias: Param::from_tensor(bias),
        })
    }

    /// `∂h_{t+1}/∂h_t` for one sample, given the new state `h_{t+1}` (`[1, hidden]`), row-major
    /// with entry `(k, i) = (1 − h_{t+1,k}²) W_{ik}`.
    pub fn recurrence_jacobian(&self, h_next: &Tensor<2>) -> Result<Vec<f64>, ResNetError> {
        let n = self.hidden_size();
        check_matrix("next hidden state", h_next, [1, n])?;
        let h = h_next.to_f64_vec();
        let w = self.recurrent.val().to_f64_vec();
        let mut jac = vec![0.0; n * n];
        for k in 0..n {
            for i in 0..n {
                jac[k * n + i] = (1.0 - h[k] * h[k]) * w[i * n + k];
            }
        }
        Ok(jac)
    }
}

impl RecurrentCell for VanillaRnn {
    fn hidden_size(&self) -> usize {
        self.recurrent.dims()[0]
    }
    fn input_size(&self) -> usize {
        self.input.dims()[0]
    }
    fn step(&self, h: Tensor<2>, x: Tensor<2>) -> Tensor<2> {
        (h.matmul(self.recurrent.val()) + x.matmul(self.input.val()) + row(&self.bias.val())).tanh()
    }
}

/// The weights of one GRU gate: `x U + h W + b`.
#[derive(Module, Debug)]
pub struct GateWeights {
    /// Recurrent weights, `[hidden, hidden]`.
    pub recurrent: Param<Tensor<2>>,
    /// Input weights, `[input, hidden]`.
    pub input: Param<Tensor<2>>,
    /// Bias, `[hidden]`.
    pub bias: Param<Tensor<1>>,
}

impl GateWeights {
    /// A gate from its weights.
    pub fn new(
        recurrent: Tensor<2>,
        input: Tensor<2>,
        bias: Tensor<1>,
    ) -> Result<Self, ResNetError> {
        let [hidden, _] = recurrent.dims();
        check_matrix("gate recurrent weights", &recurrent, [hidden, hidden])?;
        let [input_size, _] = input.dims();
        check_matrix("gate input weights", &input, [input_size, hidden])?;
        check_vector("gate bias", &bias, hidden)?;
        Ok(GateWeights {
            recurrent: Param::from_tensor(recurrent),
            input: Param::from_tensor(input),
            bias: Param::from_tensor(bias),
        })
    }

    fn pre_activation(&self, h: Tensor<2>, x: Tensor<2>) -> Tensor<2> {
        h.matmul(self.recurrent.val()) + x.matmul(self.input.val()) + row(&self.bias.val())
    }

    fn dims(&self) -> (usize, usize) {
        (self.recurrent.dims()[0], self.input.dims()[0])
    }
}

/// The logistic function as `(1 + tanh(x/2)) / 2`: burn's default `sigmoid` (which the ndarray
/// backend uses) rounds through f32, so f64 runs would lose half their digits.
fn logistic(x: Tensor<2>) -> Tensor<2> {
    ((x * 0.5).tanh() + 1.0) * 0.5
}

/// The gated recurrent unit (Cho et al. 2014):
///
/// ```text
/// z = sigmoid(x U_z + h W_z + b_z)            update gate
/// r = sigmoid(x U_r + h W_r + b_r)            reset gate
/// n = tanh(x U_n + (r ⊙ h) W_n + b_n)         candidate
/// h' = (1 − z) ⊙ n + z ⊙ h
/// ```
#[derive(Module, Debug)]
pub struct Gru {
    /// Update gate.
    pub update: GateWeights,
    /// Reset gate.
    pub reset: GateWeights,
    /// Candidate state.
    pub candidate: GateWeights,
}

impl Gru {
    /// A GRU from its three gates (all of the same hidden and input widths).
    pub fn new(
        update: GateWeights,
        reset: GateWeights,
        candidate: GateWeights,
    ) -> Result<Self, ResNetError> {
        let dims = update.dims();
        for (what, gate) in [("reset gate", &reset), ("candidate gate", &candidate)] {
            if gate.dims() != dims {
                return Err(ResNetError::Invalid {
                    what,
                    reason: format!(
                        "(hidden, input) widths {:?} differ from the update gate's {dims:?}",
                        gate.dims()
                    ),
                });
            }
        }
        Ok(Gru {
            update,
            reset,
            candidate,
        })
    }
}

impl RecurrentCell for Gru {
    fn hidden_size(&self) -> usize {
        self.update.dims().0
    }
    fn input_size(&self) -> usize {
        self.update.dims().1
    }
    fn step(&self, h: Tensor<2>, x: Tensor<2>) -> Tensor<2> {
        let z = logistic(self.update.pre_activation(h.clone(), x.clone()));
        let r = logistic(self.reset.pre_activation(h.clone(), x.clone()));
        let n = self.candidate.pre_activation(r * h.clone(), x).tanh();
        n.clone() + z * (h - n)
    }
}

/// The recurrence Jacobian `∂h_{t+1}/∂h_t` of one sample (`h: [1, hidden]`, `x: [1, input]`)
/// by central differences, row-major `(k, i) = ∂h_{t+1,k}/∂h_{t,i}`. All `2 × hidden` perturbed
/// states go through the cell as one batch. The difference step is `1e-6` in f64 and `1e-3` in
/// lower precision.
pub fn recurrence_jacobian_fd<C: RecurrentCell + ?Sized>(
    cell: &C,
    h: &Tensor<2>,
    x: &Tensor<2>,
) -> Result<Vec<f64>, ResNetError> {
    check_widths(cell, h, std::slice::from_ref(x))?;
    let n = cell.hidden_size();
    if h.dims()[0] != 1 {
        return Err(shape_error(
            "hidden state",
            format!("must be one sample [1, {n}]"),
            h.dims().to_vec(),
        ));
    }
    let eps = if h.dtype() == DType::F64 { 1e-6 } else { 1e-3 };
    let base = h.to_f64_vec();
    let mut batch = Vec::with_capacity(2 * n * n);
    for sign in [1.0, -1.0] {
        for i in 0..n {
            let mut p = base.clone();
            p[i] += sign * eps;
            batch.extend(p);
        }
    }
    let dtype = h.dtype();
    let device = h.device();
    let hs = Tensor::<2>::from_data(
        TensorData::new(batch, [2 * n, n]).convert_dtype(dtype),
        (&device, dtype),
    );
    let xs = x.clone().repeat_dim(0, 2 * n);
    let out = cell.step(hs, xs).to_f64_vec();
    let mut jac = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            jac[k * n + i] = (out[i * n + k] - out[(n + i) * n + k]) / (2.0 * eps);
        }
    }
    Ok(jac)
}

/// The spectral radius of `∂h_{t+1}/∂h_t` at each step of the trajectory from `h0: [1, hidden]`
/// driven by `inputs` (each `[1, input]`), by [`recurrence_jacobian_fd`].
pub fn jacobian_spectral_radii<C: RecurrentCell + ?Sized>(
    cell: &C,
    h0: Tensor<2>,
    inputs: &[Tensor<2>],
) -> Result<Vec<f64>, ResNetError> {
    let states = cell.run(h0, inputs)?;
    let n = cell.hidden_size();
    states
        .iter()
        .zip(inputs)
        .map(|(h, x)| {
            let jac = recurrence_jacobian_fd(cell, h, x)?;
            Ok(eigenvalues(&jac, n)?
                .iter()
                .map(|l| l.abs())
                .fold(0.0, f64::max))
        })
        .collect()
}
