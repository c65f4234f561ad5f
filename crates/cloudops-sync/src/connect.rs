//! Reaching one account in one region: the SDK configuration (credentials, region,
//! endpoint, retries, timeouts), an optional assumed role, and the account id.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use cloudops_core::AccountConfig;

use crate::collect::Scope;
use crate::error::{Error, Result};

/// How calls to AWS are made, for every account.
#[derive(Debug, Clone)]
pub struct ConnectConfig {
    /// Send every call here instead of AWS (a stand-in such as moto). `AWS_ENDPOINT_URL`
    /// is honoured without this.
    pub endpoint_url: Option<String>,
    /// Attempts per call, retries included; adaptive retry spaces them out when throttled.
    pub max_attempts: u32,
    /// Limit on one call, retries included.
    pub operation_timeout: Duration,
    /// Limit on one attempt of a call.
    pub attempt_timeout: Duration,
    /// Limit on opening a connection.
    pub connect_timeout: Duration,
}

impl Default for ConnectConfig {
    fn default() -> Self {
        ConnectConfig {
            endpoint_url: None,
            max_attempts: 8,
            operation_timeout: Duration::from_secs(120),
            attempt_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// A configured account reached in one region.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The SDK configuration to build service clients from.
    pub sdk_config: SdkConfig,
    /// The account id, name and region resources are attributed to.
    pub scope: Scope,
}

impl Connection {
    /// An EC2 client.
    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.sdk_config)
    }

    /// An RDS client.
    pub fn rds(&self) -> aws_sdk_rds::Client {
        aws_sdk_rds::Client::new(&self.sdk_config)
    }

    /// A Lambda client.
    pub fn lambda(&self) -> aws_sdk_lambda::Client {
        aws_sdk_lambda::Client::new(&self.sdk_config)
    }

    /// An ELBv2 client.
    pub fn elbv2(&self) -> aws_sdk_elasticloadbalancingv2::Client {
        aws_sdk_elasticloadbalancingv2::Client::new(&self.sdk_config)
    }
}

/// The SDK's configuration loader with its HTTPS client: rustls on ring, trusting the
/// platform's certificates, which is the SDK's default client but for the crypto library (its
/// default, aws-lc, is a CMake build of a C library that costs minutes of a cold build).
/// Without the SDK's `default-https-client` feature, a loader without this client has none.
pub(crate) fn config_loader() -> ConfigLoader {
    let client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest()).http_client(client)
}

/// Base credentials: the standard chain (environment, profile, SSO, …) unless given.
pub async fn sdk_config(
    region: &str,
    profile: Option<&str>,
    credentials: Option<Credentials>,
    config: &ConnectConfig,
) -> SdkConfig {
    let mut loader = config_loader()
        .region(Region::new(region.to_owned()))
        .retry_config(RetryConfig::adaptive().with_max_attempts(config.max_attempts))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(config.operation_timeout)
                .operation_attempt_timeout(config.attempt_timeout)
                .connect_timeout(config.connect_timeout)
                .build(),
        );
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(credentials) = credentials {
        loader = loader.credentials_provider(credentials);
    }
    if let Some(endpoint_url) = &config.endpoint_url {
        loader = loader.endpoint_url(endpoint_url);
    }
    loader.load().await
}

/// `base` with credentials for `role_arn`, assumed (and refreshed) from `base`'s.
pub async fn assume_role(base: &SdkConfig, role_arn: &str) -> SdkConfig {
    let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .session_name("cloudops-sync")
        .configure(base)
        .build()
        .await;
    base.to_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build()
}

/// The account the configuration's credentials act in (STS GetCallerIdentity). A role that
/// cannot be assumed fails here.
pub async fn account_id(sdk_config: &SdkConfig) -> Result<String> {
    let output = aws_sdk_sts::Client::new(sdk_config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|error| Error::aws("sts", "GetCallerIdentity", error))?;
    output
        .account()
        .map(str::to_owned)
        .ok_or_else(|| Error::unexpected("sts", "GetCallerIdentity", "no account in the answer"))
}

/// Reaches `account` in `region`: its profile or the given base credentials, its role if
/// any, and its account id.
pub async fn connect(
    account: &AccountConfig,
    region: &str,
    credentials: Option<Credentials>,
    config: &ConnectConfig,
) -> Result<Connection> {
    if account.role_arn.is_some() && account.profile.is_some() {
        return Err(Error::Config(format!(
            "account {:?} sets both role_arn and profile; put the role in the profile or drop one",
            account.name
        )));
    }
    let mut sdk_config = sdk_config(region, account.profile.as_deref(), credentials, config).await;
    if let Some(role_arn) = &account.role_arn {
        sdk_config = assume_role(&sdk_config, role_arn).await;
    }
    let account_id = account_id(&sdk_config).await?;
    Ok(Connection { sdk_config, scope: Scope::new(account_id, account.name.clone(), region) })
}
