//! The desired graph as Graphviz DOT: resources clustered by area, labelled with logical id and
//! kind, an arrow from each resource to those that need it. Sorted throughout, so the same graph
//! always gives the same text and a rendered picture can be checked against its source.

use crate::graph::Graph;
use crate::model::{Area, Desired, LogicalId};
use std::collections::{BTreeMap, BTreeSet};

/// Fill colour of an area's nodes, so the areas stay apart in the picture.
fn fill(area: Area) -> &'static str {
    match area {
        Area::Network => "#dbeafe",
        Area::Iam => "#fef3c7",
        Area::Eks => "#dcfce7",
        Area::Alb => "#fce7f3",
        Area::Ecr => "#ede9fe",
        Area::CodeBuild => "#ffedd5",
        Area::Logs => "#e5e7eb",
        Area::LeftByKubernetes => "#fee2e2",
    }
}

/// `s` escaped for use inside a DOT double-quoted string.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A DOT double-quoted string.
fn quote(s: &str) -> String {
    format!("\"{}\"", escape(s))
}

/// A two-line DOT label (DOT's own `\n` escape breaks the line).
fn two_lines(first: &str, second: &str) -> String {
    format!("\"{}\\n{}\"", escape(first), escape(second))
}

/// What `r` refers to through its attributes (as opposed to ordering-only edges).
fn referenced(r: &Desired) -> BTreeSet<&LogicalId> {
    let mut out = BTreeSet::new();
    for v in r.attrs.values() {
        v.visit_refs(&mut |x| {
            out.insert(&x.id);
        });
    }
    out
}

/// Renders `graph` as a DOT digraph titled `title`. An arrow `a -> b` means `a` must exist
/// before `b` (the order apply creates them); dashed arrows are ordering AWS needs that no
/// attribute expresses.
pub fn render(title: &str, graph: &Graph) -> String {
    let mut by_area: BTreeMap<Area, Vec<&Desired>> = BTreeMap::new();
    for r in graph.resources.values() {
        by_area.entry(r.kind.area()).or_default().push(r);
    }
    let mut lines = vec![
        format!("digraph {} {{", quote(title)),
        format!(
            "  graph [label={}, labelloc=t, fontname=Helvetica, rankdir=LR, ranksep=1.2, \
             nodesep=0.25, newrank=true];",
            two_lines(
                title,
                "an arrow points from a resource to one that needs it; dashed: ordering only"
            )
        ),
        "  node [shape=box, style=\"rounded,filled\", fontname=Helvetica, fontsize=10];"
            .to_string(),
        "  edge [color=\"#64748b\", arrowsize=0.6];".to_string(),
    ];
    for (area, resources) in &by_area {
        lines.push(format!(
            "  subgraph {} {{",
            quote(&format!("cluster_{area}"))
        ));
        lines.push(format!(
            "    label={}; style=\"rounded,filled\"; color=\"#94a3b8\"; fillcolor=\"#f8fafc\";",
            quote(&area.to_string())
        ));
        lines.push(format!("    node [fillcolor={}];", quote(fill(*area))));
        for r in resources {
            lines.push(format!(
                "    {} [label={}];",
                quote(r.id.as_str()),
                two_lines(r.id.as_str(), r.kind.as_str())
            ));
        }
        lines.push("  }".to_string());
    }
    let mut edges = BTreeSet::new();
    for r in graph.resources.values() {
        let refs = referenced(r);
        for d in r.deps() {
            let ordering_only = !refs.contains(&d);
            edges.insert((d, r.id.clone(), ordering_only));
        }
    }
    for (from, to, ordering_only) in edges {
        let style = if ordering_only { " [style=dashed]" } else { "" };
        lines.push(format!(
            "  {} -> {}{style};",
            quote(from.as_str()),
            quote(to.as_str())
        ));
    }
    lines.push("}".to_string());
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;
    use crate::model::{Kind, Value};

    fn small() -> Graph {
        let mut g = Graph::default();
        // Added out of order: the output must not depend on insertion order.
        g.add(
            Desired::new("role/x", Kind::IamRole)
                .with("vpc", Value::reference(&LogicalId::new("vpc"), "id"))
                .after(&LogicalId::new("igw")),
        );
        g.add(Desired::new("vpc", Kind::Vpc));
        g.add(Desired::new("igw", Kind::InternetGateway));
        g
    }

    #[test]
    fn clusters_by_area_with_sorted_nodes_and_edges() {
        let dot = render("s (r)", &small());
        let body: Vec<&str> = dot.lines().skip(4).collect();
        assert_eq!(
            body,
            [
                "  subgraph \"cluster_network\" {",
                "    label=\"network\"; style=\"rounded,filled\"; color=\"#94a3b8\"; fillcolor=\"#f8fafc\";",
                "    node [fillcolor=\"#dbeafe\"];",
                "    \"igw\" [label=\"igw\\ninternet_gateway\"];",
                "    \"vpc\" [label=\"vpc\\nvpc\"];",
                "  }",
                "  subgraph \"cluster_iam\" {",
                "    label=\"iam\"; style=\"rounded,filled\"; color=\"#94a3b8\"; fillcolor=\"#f8fafc\";",
                "    node [fillcolor=\"#fef3c7\"];",
                "    \"role/x\" [label=\"role/x\\niam_role\"];",
                "  }",
                "  \"igw\" -> \"role/x\" [style=dashed];",
                "  \"vpc\" -> \"role/x\";",
                "}",
            ]
        );
        assert!(dot.starts_with("digraph \"s (r)\" {\n"));
    }

    #[test]
    fn quotes_are_escaped() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }

    #[test]
    fn the_stack_picture_does_not_depend_on_the_account() {
        let c = config::parse(config::DEFAULT_YAML).expect("default config is valid");
        let a = render("t", &crate::stack::build(&c, "111111111111"));
        let b = render("t", &crate::stack::build(&c, "222222222222"));
        assert_eq!(a, b);
        assert!(!a.contains("111111111111"));
        for area in ["network", "iam", "eks", "alb", "ecr", "codebuild"] {
            assert!(
                a.contains(&format!("subgraph \"cluster_{area}\"")),
                "{area}"
            );
        }
    }
}
