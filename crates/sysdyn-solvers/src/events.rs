//! Events: zero crossings of `g(t, y)` located on the dense output, which stop the solve or run a
//! callback that may change the state (a bounce, a switch, a dose).
//!
//! After each accepted step the solve evaluates every event function at the step's end and at
//! four interior points of its continuous extension. A sign change in the event's [`Direction`]
//! between two of these points brackets a root, which is located by the Illinois variant of
//! regula falsi (with bisection safeguards) on the continuous extension — no extra steps, just
//! interpolations — to a few ulps of `t`. The earliest root in the step wins; the step is cut
//! there:
//!
//! - a terminating event ([`Event::terminal`]) ends the solve at the root;
//! - otherwise the event's callback gets the state at the root, may change it, and says whether
//!   to continue ([`EventAction`]); the solve resumes from the (new) state at the root with the
//!   step size it had reached.
//!
//! The root is reported on the far side of the crossing (where `g` has its new sign or is zero),
//! so a callback that leaves `g` unchanged does not see the same crossing again. Output times
//! ([`crate::SaveAt::Times`]) after a terminating event are not produced.
//!
//! ```
//! use sysdyn_solvers::events::{Direction, Event, solve_with_events};
//! use sysdyn_solvers::{SolveConfig, methods::DOPRI5};
//!
//! // A ball dropped from 10 m: stop when the height crosses zero going down.
//! let mut f = |_t: f64, y: &[f64; 2]| [y[1], -9.81];
//! let mut events = [Event::terminal(|_t: f64, y: &[f64; 2]| y[0]).direction(Direction::Falling)];
//! let config = SolveConfig::adaptive(1e-10, 1e-10);
//! let sol = solve_with_events(&mut f, &DOPRI5, (0.0, 5.0), [10.0, 0.0], &config, &mut events)?;
//! assert!((sol.events[0].t - (2.0 * 10.0 / 9.81f64).sqrt()).abs() < 1e-12);
//! # Ok::<(), sysdyn_solvers::SolveError>(())
//! ```

use sysdyn_core::State;

use crate::error::SolveError;
use crate::method::OdeMethod;
use crate::solve::{Solution, SolveConfig, StepCut, StepObserver, solve_observed};
use crate::term::VectorField;

/// Which zero crossings of an event function count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// From negative to non-negative.
    Rising,
    /// From positive to non-positive.
    Falling,
    /// Both.
    #[default]
    Either,
}

impl Direction {
    /// Whether going from `g0` to `g1` is a crossing in this direction.
    fn crosses(self, g0: f64, g1: f64) -> bool {
        let rising = g0 < 0.0 && g1 >= 0.0;
        let falling = g0 > 0.0 && g1 <= 0.0;
        match self {
            Direction::Rising => rising,
            Direction::Falling => falling,
            Direction::Either => rising || falling,
        }
    }
}

/// What the solve does after an event's callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventAction {
    /// Continue from the (possibly changed) state.
    Continue,
    /// End the solve at the event.
    Stop,
}

type Condition<'a, S> = Box<dyn FnMut(f64, &S) -> f64 + 'a>;
type Callback<'a, S> = Box<dyn FnMut(f64, &mut S) -> EventAction + 'a>;

/// An event: a function `g(t, y)` whose zero crossings matter, the direction that counts, and
/// what happens at a crossing.
pub struct Event<'a, S> {
    condition: Condition<'a, S>,
    direction: Direction,
    callback: Callback<'a, S>,
}

impl<'a, S> Event<'a, S> {
    /// An event that ends the solve at a zero crossing of `condition`.
    pub fn terminal(condition: impl FnMut(f64, &S) -> f64 + 'a) -> Self {
        Event {
            condition: Box::new(condition),
            direction: Direction::Either,
            callback: Box::new(|_, _| EventAction::Stop),
        }
    }

    /// An event that runs `callback` at each zero crossing of `condition`; the callback may
    /// change the state and says whether the solve continues.
    pub fn with_callback(
        condition: impl FnMut(f64, &S) -> f64 + 'a,
        callback: impl FnMut(f64, &mut S) -> EventAction + 'a,
    ) -> Self {
        Event {
            condition: Box::new(condition),
            direction: Direction::Either,
            callback: Box::new(callback),
        }
    }

    /// Sets the direction of the crossings that count (default: [`Direction::Either`]).
    pub fn direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }
}

impl<S> std::fmt::Debug for Event<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("direction", &self.direction)
            .finish_non_exhaustive()
    }
}

/// One located event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventOccurrence<S> {
    /// Index of the event in the slice given to [`solve_with_events`].
    pub event: usize,
    /// Time of the zero crossing.
    pub t: f64,
    /// The state there, before the callback.
    pub y: S,
}

/// A solution together with its events.
#[derive(Debug, Clone)]
pub struct EventSolution<S> {
    /// The solution (ending at the terminating event, if one occurred).
    pub solution: Solution<S>,
    /// Every located event, in order.
    pub events: Vec<EventOccurrence<S>>,
    /// The event that ended the solve, if any.
    pub terminated_by: Option<usize>,
}

/// Evaluations of the continuous extension allowed per root.
const MAX_ROOT_ITERATIONS: usize = 200;

/// Interior points of each step where the event functions are also evaluated (on the dense
/// output), so that a function that changes sign twice within one step — a ball that bounces up
/// and falls back during one long step — is still caught.
const INTERIOR_SAMPLES: usize = 4;

/// Locates the crossing of `phi` between `a` (where it is `fa`, old sign) and `b` (`fb`, new sign
/// or zero) by the Illinois method, bisecting every fourth iteration so the bracket always
/// shrinks. Returns a time on the new-sign side within a few ulps of the root.
fn locate_root(
    mut a: f64,
    mut fa: f64,
    mut b: f64,
    mut fb: f64,
    phi: &mut dyn FnMut(f64) -> f64,
) -> f64 {
    if fb == 0.0 {
        return b;
    }
    let tol = 4.0 * f64::EPSILON * a.abs().max(b.abs()).max(f64::MIN_POSITIVE);
    // Which end was kept last (-1: a, +1: b): keeping one twice halves its value (Illinois).
    let mut kept = 0;
    for iter in 0..MAX_ROOT_ITERATIONS {
        if (b - a).abs() <= tol {
            break;
        }
        let secant = (a * fb - b * fa) / (fb - fa);
        let inside = (secant - a) * (secant - b) < 0.0;
        let c = if iter % 4 == 3 || !inside || !secant.is_finite() {
            0.5 * (a + b)
        } else {
            secant
        };
        if c == a || c == b {
            break;
        }
        let fc = phi(c);
        if fc == 0.0 {
            return c;
        }
        if fc * fa > 0.0 {
            a = c;
            fa = fc;
            if kept == -1 {
                fb *= 0.5;
            }
            kept = -1;
        } else {
            b = c;
            fb = fc;
            if kept == 1 {
                fa *= 0.5;
            }
            kept = 1;
        }
    }
    b
}

/// The step observer that watches the event functions.
struct EventWatcher<'e, 'a, S> {
    events: &'e mut [Event<'a, S>],
    /// `g_i` at the current point.
    current: Vec<f64>,
    /// Time of each event's last occurrence, to ignore its immediate re-detection.
    last_time: Vec<Option<f64>>,
    occurrences: Vec<EventOccurrence<S>>,
    terminated_by: Option<usize>,
}

impl<S: State> StepObserver<S> for EventWatcher<'_, '_, S> {
    fn after_step(
        &mut self,
        t: f64,
        _y: &S,
        t_new: f64,
        y1: &S,
        dense: &mut dyn FnMut(f64) -> S,
    ) -> Option<StepCut<S>> {
        // Sample points of the step (interior ones on the dense output) and g at each of them.
        let times: Vec<f64> = (1..=INTERIOR_SAMPLES + 1)
            .map(|j| {
                if j == INTERIOR_SAMPLES + 1 {
                    t_new
                } else {
                    t + (t_new - t) * j as f64 / (INTERIOR_SAMPLES + 1) as f64
                }
            })
            .collect();
        let mut values: Vec<Vec<f64>> = Vec::with_capacity(times.len());
        for &tau in &times {
            let state = if tau == t_new { y1.clone() } else { dense(tau) };
            values.push(
                self.events
                    .iter_mut()
                    .map(|e| (e.condition)(tau, &state))
                    .collect(),
            );
        }
        // For each event, its first crossing in the step; then the earliest over all events.
        let mut first: Option<(usize, f64)> = None;
        for (i, event) in self.events.iter_mut().enumerate() {
            let (mut a, mut ga) = (t, self.current[i]);
            for (&b, row) in times.iter().zip(&values) {
                let gb = row[i];
                if event.direction.crosses(ga, gb) {
                    let condition = &mut event.condition;
                    let mut phi = |tau: f64| condition(tau, &dense(tau));
                    let root = locate_root(a, ga, b, gb, &mut phi);
                    // The crossing an event was just handled at, seen again from its far side:
                    // within a few location tolerances (4 ε of the bracket's times, see
                    // `locate_root`) of it. The window scales with that time and the step, not
                    // with a fixed unit of time: on a femtosecond time scale a window of 64 ε
                    // seconds would swallow every later crossing.
                    let repeat = self.last_time[i].is_some_and(|last| {
                        (root - last).abs()
                            <= 64.0 * f64::EPSILON * last.abs().max((t_new - t).abs())
                    });
                    if !repeat {
                        if first.is_none_or(|(_, earliest)| (root - earliest) * (t_new - t) < 0.0) {
                            first = Some((i, root));
                        }
                        break;
                    }
                }
                (a, ga) = (b, gb);
            }
        }
        let Some((index, root)) = first else {
            self.current = values.pop().expect("the step end is sampled");
            return None;
        };
        let y_event = if root == t_new {
            y1.clone()
        } else {
            dense(root)
        };
        self.occurrences.push(EventOccurrence {
            event: index,
            t: root,
            y: y_event.clone(),
        });
        self.last_time[index] = Some(root);
        let mut y_after = y_event.clone();
        let action = (self.events[index].callback)(root, &mut y_after);
        for (g, event) in self.current.iter_mut().zip(self.events.iter_mut()) {
            *g = (event.condition)(root, &y_after);
        }
        match action {
            EventAction::Stop => {
                self.terminated_by = Some(index);
                Some(StepCut {
                    t: root,
                    y: y_after,
                    resume: None,
                })
            }
            EventAction::Continue => Some(StepCut {
                t: root,
                y: y_event,
                resume: Some(y_after),
            }),
        }
    }
}

/// Solves like [`crate::solve()`] while watching `events`.
///
/// The solve ends at `t_span.1` or at the first event whose callback stops it. Events are
/// checked at five points of each accepted step, so two crossings closer than a fifth of a step
/// can be missed: bound the step (`SolveConfig::step_bounds`) if events can be that close.
pub fn solve_with_events<S, F, M>(
    f: &mut F,
    method: &M,
    t_span: (f64, f64),
    y0: S,
    config: &SolveConfig<S>,
    events: &mut [Event<'_, S>],
) -> Result<EventSolution<S>, SolveError>
where
    S: State,
    F: VectorField<S>,
    M: OdeMethod<S>,
{
    let current = events
        .iter_mut()
        .map(|e| (e.condition)(t_span.0, &y0))
        .collect();
    let mut watcher = EventWatcher {
        last_time: vec![None; events.len()],
        events,
        current,
        occurrences: Vec::new(),
        terminated_by: None,
    };
    let solution = solve_observed(f, method, t_span, y0, config, &mut watcher)?;
    Ok(EventSolution {
        solution,
        events: watcher.occurrences,
        terminated_by: watcher.terminated_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn illinois_finds_a_root_to_ulps() {
        let root = std::f64::consts::FRAC_PI_4;
        let mut phi = |t: f64| (t - root) * (1.0 + t * t);
        let found = locate_root(0.0, phi(0.0), 2.0, phi(2.0), &mut phi);
        assert!((found - root).abs() <= 4.0 * f64::EPSILON * 2.0, "{found}");
        assert!(phi(found) >= 0.0, "reported on the new-sign side");
    }

    #[test]
    fn directions_select_crossings() {
        assert!(Direction::Rising.crosses(-1.0, 0.0));
        assert!(!Direction::Rising.crosses(1.0, -1.0));
        assert!(Direction::Falling.crosses(1.0, -1.0));
        assert!(!Direction::Falling.crosses(0.0, -1.0));
        assert!(Direction::Either.crosses(1.0, -1.0) && Direction::Either.crosses(-1.0, 1.0));
    }
}
