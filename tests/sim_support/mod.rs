//! Shared by the simulator edge tests: start the simulator behind either adapter.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use vipps_golive::simulator::mock::SimServer;
use vipps_golive::simulator::serve::{self, Standalone};
use vipps_golive::simulator::{SimConfig, Simulator};

/// The simulator behind one adapter.
pub enum Adapter {
    Mock(SimServer),
    Standalone(Standalone),
}

impl Adapter {
    pub async fn mock(config: SimConfig) -> Adapter {
        Adapter::Mock(SimServer::start_with(config).await)
    }

    pub async fn standalone(config: SimConfig) -> Adapter {
        let sim = Simulator::new(config);
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        Adapter::Standalone(serve::bind(sim, addr).await.unwrap())
    }

    /// Both adapters, each on its own simulator.
    pub async fn both(config: SimConfig) -> Vec<Adapter> {
        vec![
            Adapter::mock(config.clone()).await,
            Adapter::standalone(config).await,
        ]
    }

    pub fn name(&self) -> &'static str {
        match self {
            Adapter::Mock(_) => "wiremock",
            Adapter::Standalone(_) => "standalone",
        }
    }

    pub fn url(&self, path: &str) -> String {
        match self {
            Adapter::Mock(s) => format!("{}{path}", s.uri()),
            Adapter::Standalone(s) => format!("{}{path}", s.base_url()),
        }
    }

    pub fn simulator(&self) -> &Arc<Simulator> {
        match self {
            Adapter::Mock(s) => s.simulator(),
            Adapter::Standalone(s) => s.simulator(),
        }
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}
