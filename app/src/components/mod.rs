pub mod charts;
pub mod live;
pub mod nav;
pub mod provider_card;
