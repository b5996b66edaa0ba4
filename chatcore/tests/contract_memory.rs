//! The Store, Accounts and Bus contract suites against the in-memory backends.

use chatcore::testing::{LocalBusFactory, MemoryAccountsFactory, MemoryStoreFactory};

mod store {
    chatcore::store_contract_tests!(volatile: super::MemoryStoreFactory);
}

mod bus {
    chatcore::bus_contract_tests!(super::LocalBusFactory::default());
}

mod accounts {
    chatcore::accounts_contract_tests!(super::MemoryAccountsFactory);
}
