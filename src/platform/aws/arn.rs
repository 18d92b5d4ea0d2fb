//! ARN parsing: the pieces of ELBv2 ARNs that CloudWatch dimensions, regions and related
//! resources are made of. Pure string work.

/// `app/<name>/<id>`: the `LoadBalancer` dimension, from a listener or rule ARN.
pub fn load_balancer_dimension(arn: &str) -> Option<String> {
    let resource = arn.split_once(":listener")?.1;
    let rest = resource.split_once('/')?.1; // after "listener/" or "listener-rule/"
    let parts: Vec<&str> = rest.split('/').collect();
    (parts.len() >= 3).then(|| parts[..3].join("/"))
}

/// `arn:…:loadbalancer/app/<name>/<id>`, from a listener or rule ARN.
pub fn load_balancer_arn(arn: &str) -> Option<String> {
    let (prefix, _) = arn.split_once(":listener")?;
    Some(format!(
        "{prefix}:loadbalancer/{}",
        load_balancer_dimension(arn)?
    ))
}

/// The listener a rule belongs to: the rule's ARN without its last part.
pub fn listener_of_rule(rule: &str) -> String {
    let listener = rule.replacen(":listener-rule/", ":listener/", 1);
    listener
        .rsplit_once('/')
        .map_or(listener.clone(), |(head, _)| head.to_string())
}

/// The account an ARN names.
pub fn account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// The region an ARN names.
pub fn region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// The part after the last `:`: `targetgroup/<name>/<id>` for a target group, the
/// `TargetGroup` dimension of CloudWatch metrics.
pub fn resource(arn: &str) -> &str {
    arn.rsplit_once(':').map_or(arn, |(_, suffix)| suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee";

    #[test]
    fn a_rule_arn_names_its_load_balancer_listener_region_and_account() {
        assert_eq!(
            load_balancer_dimension(RULE).as_deref(),
            Some("app/shop/50dc6c495c0c9188")
        );
        assert_eq!(
            load_balancer_arn(RULE).as_deref(),
            Some(
                "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop/50dc6c495c0c9188"
            )
        );
        assert_eq!(
            listener_of_rule(RULE),
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2"
        );
        assert_eq!(
            (region(RULE), account(RULE)),
            (Some("eu-west-1"), Some("123456789012"))
        );
        assert_eq!(
            resource("arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/blue/73e2"),
            "targetgroup/blue/73e2"
        );
    }
}
