//! cutover: a terminal console for blue/green deployments on Amazon ECS.
//!
//! Functional core (`domain`, `shift`, `app`, `ui`) and imperative shell (`platform`, `runtime`,
//! `console`, `cli`, `main`); see ARCHITECTURE.md.

pub mod app;
pub mod audit;
pub mod aws_commands;
pub mod cli;
pub mod config;
pub mod console;
pub mod demo;
pub mod domain;
pub mod headless;
pub mod logging;
pub mod platform;
pub mod runtime;
pub mod shift;
pub mod signals;
pub mod status;
pub mod terminal;
pub mod ui;
