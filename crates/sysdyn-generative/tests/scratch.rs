use burn::optim::AdamConfig;
use std::sync::OnceLock;
use sysdyn_core::device::{DeviceSpec, SysDevice};
use sysdyn_core::jet::{Activation, MlpConfig};
use sysdyn_core::rng::SeededRng;
use sysdyn_generative::gan::{GanConfig, GanLoss, GanStep};
use sysdyn_train::{LrSchedule, Optim, ProgressMode, TrainConfig, Trainer};

fn device() -> SysDevice {
    static DEVICE: OnceLock<SysDevice> = OnceLock::new();
    DEVICE
        .get_or_init(|| {
            let mut d: SysDevice = "flex:f32:autodiff"
                .parse::<DeviceSpec>()
                .unwrap()
                .init()
                .unwrap();
            d.configure_defaults().unwrap();
            d
        })
        .clone()
}

fn ring(rng: &mut SeededRng, rows: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(2 * rows);
    for _ in 0..rows {
        let k = rng.below(8) as f64;
        let a = 2.0 * std::f64::consts::PI * k / 8.0;
        out.push(2.0 * a.cos() + 0.02 * rng.normal());
        out.push(2.0 * a.sin() + 0.02 * rng.normal());
    }
    out
}

fn coverage(s: &[f64]) -> (usize, f64) {
    let mut counts = [0usize; 8];
    let mut good = 0;
    for p in s.chunks(2) {
        let (mut best, mut bd) = (0, f64::MAX);
        for k in 0..8 {
            let a = 2.0 * std::f64::consts::PI * k as f64 / 8.0;
            let d = (p[0] - 2.0 * a.cos()).powi(2) + (p[1] - 2.0 * a.sin()).powi(2);
            if d < bd {
                bd = d;
                best = k;
            }
        }
        if bd <= 9.0 * 0.02 * 0.02 {
            counts[best] += 1;
            good += 1;
        }
    }
    (
        counts.iter().filter(|&&c| c >= 20).count(),
        good as f64 / (s.len() / 2) as f64,
    )
}

#[test]
fn scratch() {
    let device = device();
    let which = std::env::var("GAN").unwrap_or("ns".into());
    let lr: f64 = std::env::var("LR")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1e-3);
    let steps: u64 = std::env::var("STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let (gan, act) = match which.as_str() {
        "ns" => (
            GanConfig::new(GanLoss::NonSaturating, 256),
            Activation::Relu,
        ),
        "gp" => (
            GanConfig::new(GanLoss::Wasserstein, 256)
                .with_critic_steps(5)
                .with_gradient_penalty(0.1),
            Activation::Relu,
        ),
        _ => panic!(),
    };
    let g = MlpConfig::new(vec![2, 128, 128, 2])
        .with_activation(Activation::Relu)
        .init_seeded(&device, 1)
        .unwrap();
    let c = MlpConfig::new(vec![2, 128, 128, 1])
        .with_activation(act)
        .init_seeded(&device, 2)
        .unwrap();
    let adam = || {
        Optim::new(
            AdamConfig::new()
                .with_beta_1(0.5)
                .with_beta_2(0.999)
                .build(),
        )
    };
    let mut step =
        GanStep::new(device.clone(), g, c, adam(), adam(), gan, 2, Box::new(ring)).unwrap();
    let dir = std::env::temp_dir().join(format!("scratch-ring-{which}"));
    let _ = std::fs::remove_dir_all(&dir);
    let t = std::time::Instant::now();
    for k in 1..=5 {
        let cfg = TrainConfig::new(steps * k / 5)
            .with_schedule(LrSchedule::Constant { lr })
            .with_divergence_factor(None)
            .with_progress(ProgressMode::Quiet);
        Trainer::new(cfg, &dir).run(&mut step).unwrap();
        let s = step.sample(2500, &mut SeededRng::new(9)).unwrap();
        eprintln!(
            "{which} {}: coverage {:?} ({:.1}s)",
            steps * k / 5,
            coverage(&s),
            t.elapsed().as_secs_f64()
        );
    }
}
