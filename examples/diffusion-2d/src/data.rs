//! The four data sets, from `sysdyn_data::toy2d`.

use sysdyn_core::rng::SeededRng;
use sysdyn_data::toy2d::Toy2d;

/// A toy distribution of the example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dataset(pub Toy2d);

impl Dataset {
    /// Eight Gaussians (σ = 0.1 on the circle of radius 2), the swiss roll, the checkerboard and
    /// two moons, in the order of runs, tables and figures.
    pub const ALL: [Dataset; 4] = [
        Dataset(Toy2d::EightGaussians),
        Dataset(Toy2d::SwissRoll),
        Dataset(Toy2d::Checkerboard),
        Dataset(Toy2d::TwoMoons),
    ];

    /// The eight Gaussians (mode coverage, the NFE sweep).
    pub const EIGHT_GAUSSIANS: Dataset = Dataset(Toy2d::EightGaussians);
    /// Two moons (the flow's likelihood, next to cnf-2d's).
    pub const TWO_MOONS: Dataset = Dataset(Toy2d::TwoMoons);

    /// Name of runs, tables and figures.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The data set called `name` (for the command line).
    pub fn parse(name: &str) -> Result<Dataset, String> {
        Dataset::ALL
            .into_iter()
            .find(|d| d.name() == name.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Dataset::ALL.iter().map(|d| d.name()).collect();
                format!("unknown data set `{name}`; one of {}", names.join(", "))
            })
    }

    /// `rows` points, row-major.
    pub fn sample(self, rows: usize, rng: &mut SeededRng) -> Vec<f64> {
        self.0.sample(rows, rng)
    }
}
