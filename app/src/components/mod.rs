pub mod live;
pub mod provider_card;
