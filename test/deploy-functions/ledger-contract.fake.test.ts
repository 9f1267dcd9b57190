import { Faults } from '../support/fake-aws';
import { FakeLedger } from '../support/fake-ledger';
import { ledgerContract } from './ledger-contract';

ledgerContract('the in-memory ledger of the model', async () => new FakeLedger(new Faults(1)));
