//! From flags to a connection: the identity check, the client's and the REST API's
//! configuration, and connecting for one command.

use std::time::Duration;

use chatcore_client::{Auth, Client, ClientConfig, Codec, Events, RestClient};

use crate::args::{Cli, CodecArg};
use crate::failure::{Failure, Outcome};

pub(crate) fn needs_identity(auth: &Auth, command: &str) -> Outcome {
    if *auth == Auth::None {
        return Err(Failure::Usage(format!(
            "{command} needs an identity: pass --user NAME (CHATCORE_USER) or --token TOKEN (CHATCORE_TOKEN)"
        )));
    }
    Ok(())
}

fn config(cli: &Cli, auth: Auth) -> Result<ClientConfig, Failure> {
    let timeout = Duration::from_secs(cli.timeout);
    let codec = match cli.codec {
        CodecArg::Json => Codec::Json,
        CodecArg::Msgpack => Codec::MsgPack,
    };
    let mut config = ClientConfig::new(cli.server.as_str())
        .and_then(|c| c.with_connect_timeout(timeout))
        .and_then(|c| c.with_request_timeout(timeout))
        .map_err(|e| Failure::Usage(e.to_string()))?;
    if let Some(path) = &cli.ca_file {
        config = config
            .with_ca_file(path)
            .map_err(|e| Failure::Usage(e.to_string()))?;
    }
    Ok(config.with_auth(auth).with_codec(codec))
}

pub(crate) fn rest(cli: &Cli, auth: &Auth) -> Result<RestClient, Failure> {
    let mut api = RestClient::new(&cli.server).map_err(|e| Failure::Usage(e.to_string()))?;
    if let Some(path) = &cli.ca_file {
        api = api
            .with_ca_file(path)
            .map_err(|e| Failure::Usage(e.to_string()))?;
    }
    let api = api.with_timeout(Duration::from_secs(cli.timeout));
    Ok(match auth {
        Auth::Token(token) => api.with_token(token.clone()),
        _ => api,
    })
}

pub(crate) async fn connect(cli: &Cli, auth: Auth) -> Result<(Client, Events), Failure> {
    Ok(Client::connect(config(cli, auth)?).await?)
}

/// Connects, runs one command, and closes.
pub(crate) async fn with_client<T, F, Fut>(cli: &Cli, auth: Auth, f: F) -> Result<T, Failure>
where
    F: FnOnce(Client, Events) -> Fut,
    Fut: std::future::Future<Output = chatcore_client::Result<T>>,
{
    let (client, events) = connect(cli, auth).await?;
    let result = f(client.clone(), events).await;
    let _ = client.close().await;
    Ok(result?)
}
