//! The shared [`Bus`](chatcore::bus::Bus) contract suite against real Redis, classic and
//! sharded pub/sub. Set `CHATCORE_TEST_REDIS_URL` (e.g. `redis://127.0.0.1:6379`) to run it.

mod common;

use common::{RedisFactory, redis_url};

async fn factory(sharded: bool) -> Option<RedisFactory> {
    Some(RedisFactory::new(redis_url()?, sharded))
}

mod classic {
    use super::factory;

    chatcore::bus_contract_tests!(match factory(false).await {
        Some(f) => f,
        None => return,
    });
}

mod sharded {
    use super::factory;

    chatcore::bus_contract_tests!(match factory(true).await {
        Some(f) => f,
        None => return,
    });
}
