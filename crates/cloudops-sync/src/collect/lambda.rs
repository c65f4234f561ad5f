//! Lambda functions: ListFunctions (every page) for the names, then GetFunction per function
//! (configuration and tags), the same read a targeted re-read makes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::types::FunctionConfiguration;
use cloudops_core::{Resource, ResourceType};
use serde_json::Value;

use super::{Scope, Targeted, read_each, set, set_str};
use crate::arn;
use crate::error::{Error, Result};

/// Lists every Lambda function (`$LATEST`) of the scope's account and region, then reads
/// each with GetFunction (configuration with `State`, which ListFunctions leaves out on AWS,
/// and tags), so a full and a targeted read give the same resource.
pub async fn collect(client: &aws_sdk_lambda::Client, scope: &Scope) -> Result<Vec<Resource>> {
    let mut names = BTreeSet::new();
    let mut pages = client.list_functions().max_items(50).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| Error::aws("lambda", "ListFunctions", error))?;
        names.extend(page.functions().iter().filter_map(|f| f.function_name()).map(str::to_owned));
    }
    // A function deleted between the listing and its read is simply gone.
    read_each(&names, |name| read_function(client.clone(), scope.clone(), name)).await
}

/// Re-reads the functions `ids` names (function names), one GetFunction each (its
/// configuration and tags), [`super::CALLS_IN_FLIGHT`] at a time; `ResourceNotFoundException` means
/// missing.
pub async fn collect_ids(
    client: &aws_sdk_lambda::Client,
    scope: &Scope,
    ids: &BTreeSet<String>,
) -> Result<Targeted> {
    let found = read_each(ids, |name| read_function(client.clone(), scope.clone(), name)).await?;
    Ok(Targeted::from_found(found, ids, |name| {
        arn::lambda_function(&scope.region, &scope.account_id, name)
    }))
}

/// One function with its tags (GetFunction); `None` when it does not exist.
async fn read_function(
    client: aws_sdk_lambda::Client,
    scope: Scope,
    name: String,
) -> Result<Option<Resource>> {
    let output = match client.get_function().function_name(&name).send().await {
        Ok(output) => output,
        Err(error) if error.code() == Some("ResourceNotFoundException") => return Ok(None),
        Err(error) => return Err(Error::aws("lambda", "GetFunction", error)),
    };
    let Some(function) = output.configuration() else { return Ok(None) };
    let mut resource = normalize_function(function, &scope);
    // GetFunction leaves tags out (with `TagsError`) when the caller may not list them;
    // ListTags then says why.
    resource.tags = match output.tags_error() {
        Some(_) => function_tags(&client, &resource.arn).await?,
        None => sorted(output.tags()),
    };
    Ok(Some(resource))
}

/// The function's tags (ListTags).
async fn function_tags(
    client: &aws_sdk_lambda::Client,
    arn: &str,
) -> Result<BTreeMap<String, String>> {
    let output = client
        .list_tags()
        .resource(arn)
        .send()
        .await
        .map_err(|error| Error::aws("lambda", "ListTags", error))?;
    Ok(sorted(output.tags()))
}

fn sorted(tags: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    tags.map(|tags| tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
}

/// Normalizes one function; tags come from a separate call.
pub fn normalize_function(function: &FunctionConfiguration, scope: &Scope) -> Resource {
    let name = function.function_name().unwrap_or_default().to_owned();
    let arn = function
        .function_arn()
        .map(str::to_owned)
        .unwrap_or_else(|| arn::lambda_function(&scope.region, &scope.account_id, &name));
    let mut resource = scope.resource(ResourceType::LambdaFunction, arn, name);
    // ListFunctions omits State on real AWS (only GetFunction has it); unknown stays empty.
    resource.state = function.state().map(|state| state.as_str().to_owned()).unwrap_or_default();

    set_str(&mut resource, "runtime", function.runtime().map(|runtime| runtime.as_str()));
    set_str(&mut resource, "description", function.description());
    set(&mut resource, "memory_size", function.memory_size());
    set(&mut resource, "timeout", function.timeout());
    set_str(&mut resource, "handler", function.handler());
    set_str(&mut resource, "role", function.role());
    set_str(&mut resource, "package_type", function.package_type().map(|t| t.as_str()));
    set_str(&mut resource, "last_modified", function.last_modified());
    let architectures: Vec<Value> =
        function.architectures().iter().map(|arch| Value::from(arch.as_str())).collect();
    if !architectures.is_empty() {
        resource.attributes.insert("architectures".to_owned(), Value::Array(architectures));
    }

    if let Some(vpc) = function.vpc_config()
        && let Some(vpc_id) = vpc.vpc_id().filter(|id| !id.is_empty())
    {
        set_str(&mut resource, "vpc_id", Some(vpc_id));
        resource.dependencies.push(arn::ec2_vpc(&scope.region, &scope.account_id, vpc_id));
        for subnet_id in vpc.subnet_ids() {
            resource.dependencies.push(arn::ec2_subnet(
                &scope.region,
                &scope.account_id,
                subnet_id,
            ));
        }
    }
    resource
}

#[cfg(test)]
mod tests {
    use aws_sdk_lambda::types::{Runtime, State};

    use super::*;

    #[test]
    fn a_function() {
        let scope = Scope {
            account_id: "123456789012".into(),
            account_name: "production".into(),
            region: "us-west-2".into(),
            last_seen: "2026-11-25T08:00:00Z".into(),
        };
        let function = FunctionConfiguration::builder()
            .function_name("thumbnailer")
            .runtime(Runtime::Python312)
            .description("makes thumbnails")
            .memory_size(256)
            .timeout(30)
            .state(State::Active)
            .build();
        let resource = normalize_function(&function, &scope);
        assert_eq!(resource.arn, "arn:aws:lambda:us-west-2:123456789012:function:thumbnailer");
        assert_eq!(resource.state, "Active");
        assert_eq!(resource.attribute_str("runtime"), Some("python3.12"));
        assert_eq!(resource.attributes["memory_size"], 256);
        assert_eq!(resource.attributes["timeout"], 30);
        assert_eq!(resource.attribute_str("description"), Some("makes thumbnails"));
    }
}
