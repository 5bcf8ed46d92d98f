//! EC2 networking kinds.

pub mod blockers;
pub mod elastic_ip;
pub mod igw_attachment;
pub mod internet_gateway;
pub mod nat_gateway;
pub mod route;
pub mod route_table;
pub mod route_table_association;
pub mod security_group;
pub mod subnet;
pub mod vpc;
pub mod vpc_endpoint;
