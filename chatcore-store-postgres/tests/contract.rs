//! The shared `Store` contract (`chatcore::testing`), run against PostgreSQL.
//!
//! Needs `CHATCORE_TEST_POSTGRES_URL`; each case works in a schema of its own.

mod common;

chatcore::store_contract_tests!(match common::PgFactory::new().await {
    Some(f) => f,
    None => return,
});

/// The accounts of one test's schema.
#[async_trait::async_trait]
impl chatcore::testing::AccountsFactory for common::PgFactory {
    async fn open(&self) -> std::sync::Arc<dyn chatcore::accounts::Accounts> {
        std::sync::Arc::new(self.store().await)
    }
}

mod accounts {
    chatcore::accounts_contract_tests!(match super::common::PgFactory::new().await {
        Some(f) => f,
        None => return,
    });
}
