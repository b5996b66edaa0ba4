//! The shared `Store` contract (`chatcore::testing`), run against PostgreSQL.
//!
//! Needs `CHATCORE_TEST_POSTGRES_URL`; each case works in a schema of its own.

mod common;

chatcore::store_contract_tests!(match common::PgFactory::new().await {
    Some(f) => f,
    None => return,
});
