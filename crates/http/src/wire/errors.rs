//! The error envelope, as the OpenAPI document describes it. `error.rs`
//! writes it; this type only documents it (every 4xx and 5xx answer
//! references it).

use lapor_app::ErrorCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

/// Every failure: `{success: false, error, code}` with a 4xx or 5xx status.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// Always false.
    success: bool,
    /// What went wrong, for people.
    error: String,
    /// The cause, for programs: one of [`ErrorCode::ALL`].
    #[schema(schema_with = code_schema)]
    code: String,
}

/// `code` is a closed set: generated clients get an enum, and a checker
/// flags an answer with a code the document does not list.
fn code_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "The cause, for programs and translations; stable, never renamed. \
             docs/api.md lists when each is sent.",
        ))
        .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    #[test]
    fn the_schema_lists_every_code() {
        let schema = serde_json::to_value(ErrorBody::schema()).unwrap();
        let listed: Vec<&str> = schema["properties"]["code"]["enum"]
            .as_array()
            .expect("code is an enum")
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let all: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(listed, all);
        assert_eq!(schema["properties"]["code"]["type"], "string");
        assert_eq!(
            schema["required"],
            serde_json::json!(["success", "error", "code"])
        );
    }
}
