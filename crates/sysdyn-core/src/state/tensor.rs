//! [`State`] for burn tensors of any rank, on any device and with autodiff on or off.
//!
//! Every operation is an ordinary tensor op, so a solve on an autodiff device records a graph
//! that burn can differentiate (backpropagation through the solver). Norms come back to the host
//! as `f64`: one device-to-host transfer per step, the same synchronisation every adaptive GPU
//! solver pays.

use burn::tensor::{Tensor, TensorData};

use super::State;
use crate::tolerance::{Tol, Tolerance};

fn scaled_sum<const D: usize>(h: f64, coeffs: &[f64], stages: &[Tensor<D>]) -> Option<Tensor<D>> {
    let mut acc: Option<Tensor<D>> = None;
    for (&c, stage) in coeffs.iter().zip(stages) {
        if c != 0.0 {
            let term = stage.clone().mul_scalar(h * c);
            acc = Some(match acc {
                None => term,
                Some(sum) => sum + term,
            });
        }
    }
    acc
}

impl<const D: usize> State for Tensor<D> {
    fn num_components(&self) -> usize {
        self.shape().num_elements()
    }

    fn shape(&self) -> Vec<usize> {
        self.dims().to_vec()
    }

    fn add_stages(&self, h: f64, coeffs: &[f64], stages: &[Self]) -> Self {
        match scaled_sum(h, coeffs, stages) {
            Some(sum) => self.clone() + sum,
            None => self.clone(),
        }
    }

    fn stage_sum(h: f64, coeffs: &[f64], stages: &[Self]) -> Self {
        scaled_sum(h, coeffs, stages).unwrap_or_else(|| stages[0].zeros_like())
    }

    fn linear_combination(terms: &[(f64, &Self)]) -> Self {
        let mut iter = terms.iter();
        let (c0, x0) = iter
            .next()
            .expect("State::linear_combination needs at least one term");
        iter.fold((*x0).clone().mul_scalar(*c0), |acc, (c, x)| {
            acc + (*x).clone().mul_scalar(*c)
        })
    }

    fn weighted_rms_norm(x: &Self, a: &Self, b: &Self, tol: &Tolerance<Self>) -> f64 {
        // Norms steer the step size; they never carry gradients.
        let magnitude = a.clone().detach().abs().max_pair(b.clone().detach().abs());
        let relative = match &tol.rtol {
            Tol::Scalar(r) => magnitude.mul_scalar(*r),
            Tol::PerComponent(r) => magnitude * r.clone().detach(),
        };
        let scale = match &tol.atol {
            Tol::Scalar(at) => relative.add_scalar(*at),
            Tol::PerComponent(at) => relative + at.clone().detach(),
        };
        let ratio = x.clone().detach() / scale;
        ratio
            .square()
            .mean()
            .try_into_scalar::<f64>()
            .map_or(f64::NAN, f64::sqrt)
    }

    fn first_non_finite(&self) -> Option<usize> {
        self.to_f64_vec().iter().position(|v| !v.is_finite())
    }

    fn with_components(&self, values: &[f64]) -> Self {
        let data = TensorData::new(values.to_vec(), self.dims()).convert_dtype(self.dtype());
        Tensor::from_data(data, (&self.device(), self.dtype()))
    }

    fn to_f64_vec(&self) -> Vec<f64> {
        self.try_to_vec_as::<f64>()
            .unwrap_or_else(|_| vec![f64::NAN; self.num_components()])
    }
}
