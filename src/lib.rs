//! cutover: a terminal console for blue/green deployments on Amazon ECS.
//!
//! Functional core (`domain`, `shift`, `app`, `ui`) and imperative shell (`platform`, `runtime`,
//! `terminal`, `cmd`, `cli`, `main`); see ARCHITECTURE.md.

pub mod app;
pub mod audit;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod domain;
pub mod logging;
pub mod platform;
pub mod recording;
pub mod runtime;
pub mod shift;
pub mod signals;
pub mod terminal;
pub mod ui;
