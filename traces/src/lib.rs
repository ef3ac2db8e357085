//! Packet captures: reading pcap/pcapng and generating synthetic traces.
