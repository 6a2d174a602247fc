À†‰ÒÒ\"+02:002Yni:///sha-256;dae7b481207bb87f1d981c5f169b8138368ae152a41b002eaf36eca1f67d56f5?ver=CBV2.0J+urn:epc:id:sgtin:9520001.012346.10000001001J+urn:epc:id:sgtin:9520001.012346.10000001002J+urn:epc:id:sgtin:9520001.012346.10000001003J+urn:epc:id:sgtin:9520001.012346.10000001004J+urn:epc:id:sgtin:9520001.012346.10000001005J+urn:epc:id:sgtin:9520001.012346.10000001006J+urn:epc:id:sgtin:9520001.012346.10000001007J+urn:epc:id:sgtin:9520001.012346.10000001008J+urn:epc:id:sgtin:9520001.012346.10000001009J+urn:epc:id:sgtin:9520001.012346.10000001010š
inspecting¢in_progressª.
completeness_verifiedcompleteness_inferred²urn:epc:id:sgln:9529999.99999.0Âurn:epc:id:sgln:9529999.99999.0Ò.
inv'urn:epcglobal:cbv:bt:9520011111116:A123Ò/
po)urn:epcglobal:cbv:bt:9529999999991:XYZ567Ò7
desadv-urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6Ú-
owning_partyurn:epc:id:pgln:9520001.11111â-
owning_partyurn:epc:id:pgln:9520999.99999‚'
examplehttp://ns.example.com/epcis/ŠYni:///sha-256;d45746bb0cfcfe53f04f2cf0670f2efe1236c3a2aa851a60fee109e60174d98c?ver=CBV2.0Î