//! Hamiltonian-inspired networks (Haber & Ruthotto 2017): second order in depth, stepped by
//! leapfrog, and the two-stream Verlet network with non-square layer matrices. Both are
//! time-reversible discretisations, so their forward maps are stable and exactly invertible.

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use sysdyn_core::jet::Activation;

use super::depth::{layer_matrix, layer_row, prolong_rows, prolong_stack};
use super::error::{ResNetError, check_step, shape_error};

/// `Y'' = σ(Y K(t) + b(t))` with `K_j = -C_jᵀ C_j` (negative semidefinite, so the linearised
/// dynamics oscillate instead of growing), stepped by leapfrog
/// `Y_{j+1} = 2 Y_j - Y_{j-1} + h² σ(Y_j K_j + b_j)` from rest (`Y_1 = Y_0 + h²/2 σ(Y_0 K_0 + b_0)`).
#[derive(Module, Debug)]
pub struct HamiltonianNet {
    /// Trainable factors `C_j`, `[N, n, n]`.
    pub factors: Param<Tensor<3>>,
    /// Biases `b_j`, `[N, n]`.
    pub biases: Param<Tensor<2>>,
    #[module(skip)]
    step: f64,
    #[module(skip)]
    activation: Activation,
}

impl HamiltonianNet {
    /// A network from `factors: [N, n, n]` and `biases: [N, n]`.
    pub fn new(
        factors: Tensor<3>,
        biases: Tensor<2>,
        step: f64,
        activation: Activation,
    ) -> Result<Self, ResNetError> {
        check_step(step)?;
        let [n_layers, rows, cols] = factors.dims();
        if n_layers == 0 {
            return Err(ResNetError::NoLayers);
        }
        if rows != cols {
            return Err(shape_error(
                "factors",
                "must be [N, n, n]",
                factors.dims().to_vec(),
            ));
        }
        if biases.dims() != [n_layers, rows] {
            return Err(shape_error(
                "biases",
                format!("must be [N, n] = [{n_layers}, {rows}]"),
                biases.dims().to_vec(),
            ));
        }
        Ok(HamiltonianNet {
            factors: Param::from_tensor(factors),
            biases: Param::from_tensor(biases),
            step,
            activation,
        })
    }

    /// Number of layers `N`.
    pub fn layers(&self) -> usize {
        self.factors.dims()[0]
    }

    /// Width `n`.
    pub fn width(&self) -> usize {
        self.factors.dims()[1]
    }

    /// Step size `h`.
    pub fn step_size(&self) -> f64 {
        self.step
    }

    /// `K_j = -C_jᵀ C_j`.
    pub fn layer_matrix(&self, j: usize) -> Tensor<2> {
        let c = layer_matrix(&self.factors.val(), j);
        -(c.clone().transpose().matmul(c))
    }

    /// The acceleration `σ(Y K_j + b_j)` of layer `j`.
    pub fn acceleration(&self, j: usize, y: Tensor<2>) -> Tensor<2> {
        let b = layer_row(&self.biases.val(), j);
        self.activation.forward(y.matmul(self.layer_matrix(j)) + b)
    }

    /// The states `Y_0, …, Y_N`.
    pub fn trajectory(&self, y0: Tensor<2>) -> Result<Vec<Tensor<2>>, ResNetError> {
        if y0.dims()[1] != self.width() {
            return Err(shape_error(
                "input",
                format!("must be [batch, {}]", self.width()),
                y0.dims().to_vec(),
            ));
        }
        let h2 = self.step * self.step;
        let mut states = vec![y0];
        for j in 0..self.layers() {
            let y = states[j].clone();
            let a = self.acceleration(j, y.clone());
            let next = if j == 0 {
                y + a * (0.5 * h2)
            } else {
                y * 2.0 - states[j - 1].clone() + a * h2
            };
            states.push(next);
        }
        Ok(states)
    }

    /// The output `Y_N`.
    pub fn forward(&self, y0: Tensor<2>) -> Result<Tensor<2>, ResNetError> {
        let mut states = self.trajectory(y0)?;
        Ok(states.pop().expect("a trajectory holds the input"))
    }

    /// `2N` layers with step `h/2`, factors and biases interpolated linearly in depth (fresh
    /// leaf parameters).
    pub fn prolong(&self) -> Self {
        HamiltonianNet {
            factors: Param::from_tensor(prolong_stack(self.factors.val()).detach()),
            biases: Param::from_tensor(prolong_rows(self.biases.val()).detach()),
            step: 0.5 * self.step,
            activation: self.activation,
        }
    }

    /// The depth-indexed parameters as `[N, a, b]` stacks (biases as `[N, 1, n]`).
    pub fn parameter_stacks(&self) -> Vec<Tensor<3>> {
        let [n_layers, n] = self.biases.dims();
        vec![
            self.factors.val(),
            self.biases.val().reshape([n_layers, 1, n]),
        ]
    }

    /// The layer matrices `K_j = -C_jᵀ C_j`.
    pub fn layer_matrices(&self) -> Vec<Tensor<2>> {
        (0..self.layers()).map(|j| self.layer_matrix(j)).collect()
    }
}

/// The two-stream Verlet network: a state `Y: [batch, n]` and a companion `Z: [batch, m]`,
///
/// ```text
/// Z_{j+1/2} = Z_{j-1/2} - h σ(Y_j K_j + b_j)        (K_j: n × m, b_j: m)
/// Y_{j+1}   = Y_j + h σ(Z_{j+1/2} K_jᵀ + c_j)       (c_j: n)
/// ```
///
/// (the column form `z ← z - h σ(K_jᵀ y + b_j)`, `y ← y + h σ(K_j z + c_j)`; with `m ≠ n` the
/// two updates need their own biases). Each half step changes one stream by a function of the
/// other, so the map is inverted exactly by running the updates backwards ([`VerletNet::invert`]).
#[derive(Module, Debug)]
pub struct VerletNet {
    /// Layer matrices `K_j`, `[N, n, m]`.
    pub weights: Param<Tensor<3>>,
    /// Biases of the `Z` update, `[N, m]`.
    pub z_biases: Param<Tensor<2>>,
    /// Biases of the `Y` update, `[N, n]`.
    pub y_biases: Param<Tensor<2>>,
    #[module(skip)]
    step: f64,
    #[module(skip)]
    activation: Activation,
}

/// The two streams of a [`VerletNet`] after each layer.
#[derive(Debug, Clone)]
pub struct TwoStream {
    /// `Y_0, …, Y_N`.
    pub ys: Vec<Tensor<2>>,
    /// `Z_{-1/2}, Z_{1/2}, …, Z_{N-1/2}`.
    pub zs: Vec<Tensor<2>>,
}

impl VerletNet {
    /// A network from `weights: [N, n, m]`, `z_biases: [N, m]`, `y_biases: [N, n]`.
    pub fn new(
        weights: Tensor<3>,
        z_biases: Tensor<2>,
        y_biases: Tensor<2>,
        step: f64,
        activation: Activation,
    ) -> Result<Self, ResNetError> {
        check_step(step)?;
        let [n_layers, n, m] = weights.dims();
        if n_layers == 0 {
            return Err(ResNetError::NoLayers);
        }
        if z_biases.dims() != [n_layers, m] {
            return Err(shape_error(
                "z_biases",
                format!("must be [N, m] = [{n_layers}, {m}]"),
                z_biases.dims().to_vec(),
            ));
        }
        if y_biases.dims() != [n_layers, n] {
            return Err(shape_error(
                "y_biases",
                format!("must be [N, n] = [{n_layers}, {n}]"),
                y_biases.dims().to_vec(),
            ));
        }
        Ok(VerletNet {
            weights: Param::from_tensor(weights),
            z_biases: Param::from_tensor(z_biases),
            y_biases: Param::from_tensor(y_biases),
            step,
            activation,
        })
    }

    /// Number of layers `N`.
    pub fn layers(&self) -> usize {
        self.weights.dims()[0]
    }

    /// Width `n` of `Y`.
    pub fn width(&self) -> usize {
        self.weights.dims()[1]
    }

    /// Width `m` of `Z`.
    pub fn companion_width(&self) -> usize {
        self.weights.dims()[2]
    }

    /// Step size `h`.
    pub fn step_size(&self) -> f64 {
        self.step
    }

    fn z_update(&self, j: usize, y: Tensor<2>) -> Tensor<2> {
        let k = layer_matrix(&self.weights.val(), j);
        let b = layer_row(&self.z_biases.val(), j);
        self.activation.forward(y.matmul(k) + b) * self.step
    }

    fn y_update(&self, j: usize, z: Tensor<2>) -> Tensor<2> {
        let k = layer_matrix(&self.weights.val(), j);
        let c = layer_row(&self.y_biases.val(), j);
        self.activation.forward(z.matmul(k.transpose()) + c) * self.step
    }

    fn check(&self, what: &'static str, t: &Tensor<2>, width: usize) -> Result<(), ResNetError> {
        if t.dims()[1] != width {
            return Err(shape_error(
                what,
                format!("must be [batch, {width}]"),
                t.dims().to_vec(),
            ));
        }
        Ok(())
    }

    /// Both streams through the network from `Y_0 = y0` and `Z_{-1/2} = z0` (zeros when `None`).
    pub fn trajectory(
        &self,
        y0: Tensor<2>,
        z0: Option<Tensor<2>>,
    ) -> Result<TwoStream, ResNetError> {
        self.check("input", &y0, self.width())?;
        let z0 = match z0 {
            Some(z) => {
                self.check("companion input", &z, self.companion_width())?;
                if z.dims()[0] != y0.dims()[0] {
                    return Err(shape_error(
                        "companion input",
                        format!("must have the input's batch size {}", y0.dims()[0]),
                        z.dims().to_vec(),
                    ));
                }
                z
            }
            None => Tensor::zeros(
                [y0.dims()[0], self.companion_width()],
                (&y0.device(), y0.dtype()),
            ),
        };
        let mut ys = vec![y0];
        let mut zs = vec![z0];
        for j in 0..self.layers() {
            let z = zs[j].clone() - self.z_update(j, ys[j].clone());
            let y = ys[j].clone() + self.y_update(j, z.clone());
            zs.push(z);
            ys.push(y);
        }
        Ok(TwoStream { ys, zs })
    }

    /// The output `(Y_N, Z_{N-1/2})`.
    pub fn forward(
        &self,
        y0: Tensor<2>,
        z0: Option<Tensor<2>>,
    ) -> Result<(Tensor<2>, Tensor<2>), ResNetError> {
        let mut s = self.trajectory(y0, z0)?;
        Ok((
            s.ys.pop().expect("a trajectory holds the input"),
            s.zs.pop().expect("a trajectory holds the input"),
        ))
    }

    /// The inverse map: `(Y_0, Z_{-1/2})` from the output `(Y_N, Z_{N-1/2})`, by undoing the
    /// half steps in reverse order. Exact up to round-off; no solve is involved.
    pub fn invert(
        &self,
        y_out: Tensor<2>,
        z_out: Tensor<2>,
    ) -> Result<(Tensor<2>, Tensor<2>), ResNetError> {
        self.check("output", &y_out, self.width())?;
        self.check("companion output", &z_out, self.companion_width())?;
        let (mut y, mut z) = (y_out, z_out);
        for j in (0..self.layers()).rev() {
            y = y - self.y_update(j, z.clone());
            z = z + self.z_update(j, y.clone());
        }
        Ok((y, z))
    }

    /// `2N` layers with step `h/2`, parameters interpolated linearly in depth (fresh leaf
    /// parameters).
    pub fn prolong(&self) -> Self {
        VerletNet {
            weights: Param::from_tensor(prolong_stack(self.weights.val()).detach()),
            z_biases: Param::from_tensor(prolong_rows(self.z_biases.val()).detach()),
            y_biases: Param::from_tensor(prolong_rows(self.y_biases.val()).detach()),
            step: 0.5 * self.step,
            activation: self.activation,
        }
    }

    /// The depth-indexed parameters as `[N, a, b]` stacks (biases as `[N, 1, ·]`).
    pub fn parameter_stacks(&self) -> Vec<Tensor<3>> {
        let [n_layers, n, m] = self.weights.dims();
        vec![
            self.weights.val(),
            self.z_biases.val().reshape([n_layers, 1, m]),
            self.y_biases.val().reshape([n_layers, 1, n]),
        ]
    }

    /// The matrix of the linearised joint dynamics `[Y Z]' = [Y Z] M_j` at zero bias with
    /// `σ'(0) = 1`: `M_j = [[0, -K_j], [K_jᵀ, 0]]`, antisymmetric, so its spectrum is purely
    /// imaginary for every `K_j`.
    pub fn layer_matrices(&self) -> Vec<Tensor<2>> {
        let [_, n, m] = self.weights.dims();
        let w = self.weights.val();
        (0..self.layers())
            .map(|j| {
                let k = layer_matrix(&w, j);
                let zeros_n = Tensor::zeros([n, n], (&w.device(), w.dtype()));
                let zeros_m = Tensor::zeros([m, m], (&w.device(), w.dtype()));
                let top = Tensor::cat(vec![zeros_n, -k.clone()], 1);
                let bottom = Tensor::cat(vec![k.transpose(), zeros_m], 1);
                Tensor::cat(vec![top, bottom], 0)
            })
            .collect()
    }
}
