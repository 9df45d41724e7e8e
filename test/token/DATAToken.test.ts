// The DATA token: ERC-20 + EIP-2612 permit + ERC-1363 pay-and-notify, minted by MINTER_ROLE under a hard
// cap, burnable, and with no admin power over anyone's tokens. Every external function, error and event.
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { ApprovalReceiverMock, DATAToken, PlainERC20, TokenReceiverMock } from "../../typechain-types";
import { TOKEN_CAP, deployFoundation, gasOf, signPermit } from "../helpers/foundation";

const UNIT = 10n ** 18n;
const MINTER_ROLE = ethers.id("MINTER_ROLE");
const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;

/** ERC-165 interface id: the XOR of the selectors of the interface's functions. */
function interfaceId(signatures: string[]): string {
  let id = 0n;
  for (const signature of signatures) id ^= BigInt(ethers.id(signature).slice(0, 10));
  return ethers.toBeHex(id, 4);
}

async function tokenFixture() {
  const [admin, minter, alice, bob, carol] = await ethers.getSigners();
  const token = (await ethers.deployContract("DATAToken", [admin.address, minter.address, TOKEN_CAP])) as unknown as DATAToken;
  await token.connect(minter).mint(alice.address, 1_000n * UNIT);
  const receiver = (await ethers.deployContract("TokenReceiverMock")) as unknown as TokenReceiverMock;
  const spender = (await ethers.deployContract("ApprovalReceiverMock")) as unknown as ApprovalReceiverMock;
  return { token, receiver, spender, admin, minter, alice, bob, carol };
}

describe("DATAToken", function () {
  describe("deployment", function () {
    it("has the name, symbol, decimals and cap it was deployed with and no supply", async function () {
      const [admin, minter] = await ethers.getSigners();
      const token = await ethers.deployContract("DATAToken", [admin.address, minter.address, 5n * UNIT]);
      expect(await token.name()).to.equal("Streamr DATA");
      expect(await token.symbol()).to.equal("DATA");
      expect(await token.decimals()).to.equal(18n);
      expect(await token.cap()).to.equal(5n * UNIT);
      expect(await token.totalSupply()).to.equal(0n);
    });

    it("gives DEFAULT_ADMIN_ROLE to the admin and MINTER_ROLE to the minter, and nothing else", async function () {
      const { token, admin, minter } = await loadFixture(tokenFixture);
      expect(await token.MINTER_ROLE()).to.equal(MINTER_ROLE);
      expect(await token.DEFAULT_ADMIN_ROLE()).to.equal(DEFAULT_ADMIN_ROLE);
      expect(await token.hasRole(DEFAULT_ADMIN_ROLE, admin.address)).to.equal(true);
      expect(await token.hasRole(MINTER_ROLE, minter.address)).to.equal(true);
      expect(await token.hasRole(MINTER_ROLE, admin.address)).to.equal(false);
      expect(await token.hasRole(DEFAULT_ADMIN_ROLE, minter.address)).to.equal(false);
      expect(await token.getRoleAdmin(MINTER_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
      expect(await token.getRoleAdmin(DEFAULT_ADMIN_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
    });

    it("grants no minter when deployed with minter address(0)", async function () {
      const [admin] = await ethers.getSigners();
      const token = await ethers.deployContract("DATAToken", [admin.address, ethers.ZeroAddress, TOKEN_CAP]);
      expect(await token.hasRole(MINTER_ROLE, ethers.ZeroAddress)).to.equal(false);
      await expect(token.connect(admin).mint(admin.address, 1n))
        .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
        .withArgs(admin.address, MINTER_ROLE);
    });

    it("refuses a zero cap (OpenZeppelin ERC20InvalidCap)", async function () {
      const [admin] = await ethers.getSigners();
      const factory = await ethers.getContractFactory("DATAToken");
      await expect(factory.deploy(admin.address, admin.address, 0n))
        .to.be.revertedWithCustomError(factory, "ERC20InvalidCap")
        .withArgs(0n);
    });

    it("deploys through the shared foundation helper with the test cap", async function () {
      const [admin] = await ethers.getSigners();
      const { token } = await deployFoundation(admin);
      expect(await token.cap()).to.equal(TOKEN_CAP);
      expect(await token.hasRole(MINTER_ROLE, admin.address)).to.equal(true);
    });
  });

  describe("mint", function () {
    it("mints to any address for a MINTER_ROLE holder and emits Transfer from address(0)", async function () {
      const { token, minter, bob } = await loadFixture(tokenFixture);
      await expect(token.connect(minter).mint(bob.address, 7n * UNIT))
        .to.emit(token, "Transfer")
        .withArgs(ethers.ZeroAddress, bob.address, 7n * UNIT);
      expect(await token.balanceOf(bob.address)).to.equal(7n * UNIT);
      expect(await token.totalSupply()).to.equal(1_007n * UNIT);
    });

    it("refuses a caller without MINTER_ROLE, even the admin", async function () {
      const { token, admin, alice } = await loadFixture(tokenFixture);
      for (const caller of [admin, alice]) {
        await expect(token.connect(caller).mint(caller.address, 1n))
          .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, MINTER_ROLE);
      }
    });

    it("mints up to exactly the cap and refuses one wei more with ERC20ExceededCap(increasedSupply, cap)", async function () {
      const { token, minter, bob } = await loadFixture(tokenFixture);
      const remaining = TOKEN_CAP - (await token.totalSupply());
      await expect(token.connect(minter).mint(bob.address, remaining + 1n))
        .to.be.revertedWithCustomError(token, "ERC20ExceededCap")
        .withArgs(TOKEN_CAP + 1n, TOKEN_CAP);
      await token.connect(minter).mint(bob.address, remaining);
      expect(await token.totalSupply()).to.equal(TOKEN_CAP);
      await expect(token.connect(minter).mint(bob.address, 1n))
        .to.be.revertedWithCustomError(token, "ERC20ExceededCap")
        .withArgs(TOKEN_CAP + 1n, TOKEN_CAP);
    });

    it("lets burned supply be minted again under the cap (the cap bounds the supply, not the mints)", async function () {
      const { token, minter, alice } = await loadFixture(tokenFixture);
      const remaining = TOKEN_CAP - (await token.totalSupply());
      await token.connect(minter).mint(alice.address, remaining);
      await token.connect(alice).burn(3n);
      await expect(token.connect(minter).mint(alice.address, 3n)).to.emit(token, "Transfer");
      expect(await token.totalSupply()).to.equal(TOKEN_CAP);
    });

    it("refuses to mint to address(0) with ERC20InvalidReceiver", async function () {
      const { token, minter } = await loadFixture(tokenFixture);
      await expect(token.connect(minter).mint(ethers.ZeroAddress, 1n))
        .to.be.revertedWithCustomError(token, "ERC20InvalidReceiver")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("roles", function () {
    it("lets the admin grant and revoke MINTER_ROLE, with RoleGranted / RoleRevoked", async function () {
      const { token, admin, bob } = await loadFixture(tokenFixture);
      await expect(token.connect(admin).grantRole(MINTER_ROLE, bob.address)).to.emit(token, "RoleGranted").withArgs(MINTER_ROLE, bob.address, admin.address);
      await token.connect(bob).mint(bob.address, 1n);
      await expect(token.connect(admin).revokeRole(MINTER_ROLE, bob.address)).to.emit(token, "RoleRevoked").withArgs(MINTER_ROLE, bob.address, admin.address);
      await expect(token.connect(bob).mint(bob.address, 1n))
        .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
        .withArgs(bob.address, MINTER_ROLE);
    });

    it("refuses grantRole and revokeRole from a non-admin", async function () {
      const { token, minter, alice } = await loadFixture(tokenFixture);
      await expect(token.connect(minter).grantRole(MINTER_ROLE, alice.address))
        .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
        .withArgs(minter.address, DEFAULT_ADMIN_ROLE);
      await expect(token.connect(alice).revokeRole(MINTER_ROLE, minter.address))
        .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
        .withArgs(alice.address, DEFAULT_ADMIN_ROLE);
    });

    it("lets a minter renounce its own role, and nobody renounce for another", async function () {
      const { token, admin, minter } = await loadFixture(tokenFixture);
      await expect(token.connect(admin).renounceRole(MINTER_ROLE, minter.address)).to.be.revertedWithCustomError(token, "AccessControlBadConfirmation");
      await expect(token.connect(minter).renounceRole(MINTER_ROLE, minter.address))
        .to.emit(token, "RoleRevoked")
        .withArgs(MINTER_ROLE, minter.address, minter.address);
      expect(await token.hasRole(MINTER_ROLE, minter.address)).to.equal(false);
    });
  });

  describe("ERC-20 transfers and allowances", function () {
    it("transfers and emits Transfer", async function () {
      const { token, alice, bob } = await loadFixture(tokenFixture);
      await expect(token.connect(alice).transfer(bob.address, 5n)).to.emit(token, "Transfer").withArgs(alice.address, bob.address, 5n);
      expect(await token.balanceOf(bob.address)).to.equal(5n);
      expect(await token.balanceOf(alice.address)).to.equal(1_000n * UNIT - 5n);
    });

    it("refuses a transfer above the balance with ERC20InsufficientBalance(sender, balance, needed)", async function () {
      const { token, alice, bob } = await loadFixture(tokenFixture);
      await expect(token.connect(bob).transfer(alice.address, 1n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
        .withArgs(bob.address, 0n, 1n);
    });

    it("approves, emits Approval, and transferFrom spends the allowance", async function () {
      const { token, alice, bob, carol } = await loadFixture(tokenFixture);
      await expect(token.connect(alice).approve(bob.address, 10n)).to.emit(token, "Approval").withArgs(alice.address, bob.address, 10n);
      expect(await token.allowance(alice.address, bob.address)).to.equal(10n);
      await expect(token.connect(bob).transferFrom(alice.address, carol.address, 4n))
        .to.emit(token, "Transfer")
        .withArgs(alice.address, carol.address, 4n);
      expect(await token.allowance(alice.address, bob.address)).to.equal(6n);
      await expect(token.connect(bob).transferFrom(alice.address, carol.address, 7n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(bob.address, 6n, 7n);
    });
  });

  describe("burn and burnFrom", function () {
    it("burns the caller's tokens, lowering the supply, with Transfer to address(0)", async function () {
      const { token, alice } = await loadFixture(tokenFixture);
      await expect(token.connect(alice).burn(UNIT)).to.emit(token, "Transfer").withArgs(alice.address, ethers.ZeroAddress, UNIT);
      expect(await token.balanceOf(alice.address)).to.equal(999n * UNIT);
      expect(await token.totalSupply()).to.equal(999n * UNIT);
    });

    it("refuses to burn more than the balance", async function () {
      const { token, bob } = await loadFixture(tokenFixture);
      await expect(token.connect(bob).burn(1n)).to.be.revertedWithCustomError(token, "ERC20InsufficientBalance").withArgs(bob.address, 0n, 1n);
    });

    it("burnFrom burns another's tokens by spending the caller's allowance", async function () {
      const { token, alice, bob } = await loadFixture(tokenFixture);
      await token.connect(alice).approve(bob.address, 3n * UNIT);
      await expect(token.connect(bob).burnFrom(alice.address, 2n * UNIT))
        .to.emit(token, "Transfer")
        .withArgs(alice.address, ethers.ZeroAddress, 2n * UNIT);
      expect(await token.allowance(alice.address, bob.address)).to.equal(UNIT);
      expect(await token.totalSupply()).to.equal(998n * UNIT);
    });

    it("burnFrom refuses without enough allowance with ERC20InsufficientAllowance", async function () {
      const { token, alice, bob } = await loadFixture(tokenFixture);
      await token.connect(alice).approve(bob.address, 1n);
      await expect(token.connect(bob).burnFrom(alice.address, 2n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(bob.address, 1n, 2n);
      expect(await token.balanceOf(alice.address)).to.equal(1_000n * UNIT);
    });
  });

  describe("permit (EIP-2612)", function () {
    it("exposes the EIP-712 domain: name 'Streamr DATA', version '1', this chain and address", async function () {
      const { token } = await loadFixture(tokenFixture);
      const { chainId } = await ethers.provider.getNetwork();
      const address = await token.getAddress();
      const domain = await token.eip712Domain();
      expect(domain.name).to.equal("Streamr DATA");
      expect(domain.version).to.equal("1");
      expect(domain.chainId).to.equal(chainId);
      expect(domain.verifyingContract).to.equal(address);
      expect(await token.DOMAIN_SEPARATOR()).to.equal(
        ethers.TypedDataEncoder.hashDomain({ name: "Streamr DATA", version: "1", chainId, verifyingContract: address }),
      );
    });

    it("sets an allowance from the owner's signature, emits Approval and bumps the nonce", async function () {
      const { token, alice, bob, carol } = await loadFixture(tokenFixture);
      const deadline = BigInt(await time.latest()) + 3600n;
      expect(await token.nonces(alice.address)).to.equal(0n);
      const { v, r, s } = await signPermit(token, alice, bob.address, 42n, deadline);
      await expect(token.connect(carol).permit(alice.address, bob.address, 42n, deadline, v, r, s))
        .to.emit(token, "Approval")
        .withArgs(alice.address, bob.address, 42n);
      expect(await token.allowance(alice.address, bob.address)).to.equal(42n);
      expect(await token.nonces(alice.address)).to.equal(1n);
    });

    it("refuses a replayed permit (the nonce moved on) with ERC2612InvalidSigner", async function () {
      const { token, alice, bob } = await loadFixture(tokenFixture);
      const deadline = BigInt(await time.latest()) + 3600n;
      const { v, r, s } = await signPermit(token, alice, bob.address, 42n, deadline);
      await token.permit(alice.address, bob.address, 42n, deadline, v, r, s);
      // The digest now uses nonce 1, so the same signature recovers to some other address.
      await expect(token.permit(alice.address, bob.address, 42n, deadline, v, r, s)).to.be.revertedWithCustomError(token, "ERC2612InvalidSigner");
    });

    it("refuses an expired deadline with ERC2612ExpiredSignature(deadline)", async function () {
      const { token, alice, bob } = await loadFixture(tokenFixture);
      const deadline = BigInt(await time.latest()) + 10n;
      const { v, r, s } = await signPermit(token, alice, bob.address, 1n, deadline);
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(token.permit(alice.address, bob.address, 1n, deadline, v, r, s))
        .to.be.revertedWithCustomError(token, "ERC2612ExpiredSignature")
        .withArgs(deadline);
    });

    it("accepts a permit in the very block whose timestamp equals the deadline", async function () {
      const { token, alice, bob } = await loadFixture(tokenFixture);
      const deadline = BigInt(await time.latest()) + 10n;
      const { v, r, s } = await signPermit(token, alice, bob.address, 1n, deadline);
      await time.setNextBlockTimestamp(deadline);
      await expect(token.permit(alice.address, bob.address, 1n, deadline, v, r, s)).to.emit(token, "Approval");
    });

    it("refuses a signature by someone other than the owner with ERC2612InvalidSigner(signer, owner)", async function () {
      const { token, alice, bob, carol } = await loadFixture(tokenFixture);
      const deadline = BigInt(await time.latest()) + 3600n;
      // carol signs a permit naming alice as the owner (carol's nonce is 0, as alice's is)
      const { chainId } = await ethers.provider.getNetwork();
      const signature = await carol.signTypedData(
        { name: "Streamr DATA", version: "1", chainId, verifyingContract: await token.getAddress() },
        {
          Permit: [
            { name: "owner", type: "address" },
            { name: "spender", type: "address" },
            { name: "value", type: "uint256" },
            { name: "nonce", type: "uint256" },
            { name: "deadline", type: "uint256" },
          ],
        },
        { owner: alice.address, spender: bob.address, value: 5n, nonce: 0n, deadline },
      );
      const { v, r, s } = ethers.Signature.from(signature);
      await expect(token.permit(alice.address, bob.address, 5n, deadline, v, r, s))
        .to.be.revertedWithCustomError(token, "ERC2612InvalidSigner")
        .withArgs(carol.address, alice.address);
      expect(await token.allowance(alice.address, bob.address)).to.equal(0n);
    });
  });

  describe("ERC-1363 pay-and-notify", function () {
    it("transferAndCall(to, value) moves the tokens and calls onTransferReceived with empty data", async function () {
      const { token, receiver, alice } = await loadFixture(tokenFixture);
      const to = await receiver.getAddress();
      await expect(token.connect(alice)["transferAndCall(address,uint256)"](to, 9n))
        .to.emit(token, "Transfer")
        .withArgs(alice.address, to, 9n)
        .and.to.emit(receiver, "Received")
        .withArgs(alice.address, alice.address, 9n, "0x");
      expect(await token.balanceOf(to)).to.equal(9n);
    });

    it("transferAndCall(to, value, data) passes the data to the receiver", async function () {
      const { token, receiver, alice } = await loadFixture(tokenFixture);
      const to = await receiver.getAddress();
      await expect(token.connect(alice)["transferAndCall(address,uint256,bytes)"](to, 9n, "0xc0ffee"))
        .to.emit(receiver, "Received")
        .withArgs(alice.address, alice.address, 9n, "0xc0ffee");
    });

    it("transferFromAndCall names the spender as operator and the holder as from, and spends the allowance", async function () {
      const { token, receiver, alice, bob } = await loadFixture(tokenFixture);
      const to = await receiver.getAddress();
      await token.connect(alice).approve(bob.address, 20n);
      await expect(token.connect(bob)["transferFromAndCall(address,address,uint256)"](alice.address, to, 5n))
        .to.emit(receiver, "Received")
        .withArgs(bob.address, alice.address, 5n, "0x");
      await expect(token.connect(bob)["transferFromAndCall(address,address,uint256,bytes)"](alice.address, to, 6n, "0x01"))
        .to.emit(token, "Transfer")
        .withArgs(alice.address, to, 6n)
        .and.to.emit(receiver, "Received")
        .withArgs(bob.address, alice.address, 6n, "0x01");
      expect(await token.allowance(alice.address, bob.address)).to.equal(9n);
      expect(await token.balanceOf(to)).to.equal(11n);
    });

    it("approveAndCall sets the allowance and calls onApprovalReceived, with and without data", async function () {
      const { token, spender, alice } = await loadFixture(tokenFixture);
      const to = await spender.getAddress();
      await expect(token.connect(alice)["approveAndCall(address,uint256)"](to, 3n))
        .to.emit(token, "Approval")
        .withArgs(alice.address, to, 3n)
        .and.to.emit(spender, "Approved")
        .withArgs(alice.address, 3n, "0x");
      await expect(token.connect(alice)["approveAndCall(address,uint256,bytes)"](to, 4n, "0xbeef"))
        .to.emit(spender, "Approved")
        .withArgs(alice.address, 4n, "0xbeef");
      expect(await token.allowance(alice.address, to)).to.equal(4n);
    });

    it("refuses transferAndCall to an EOA with ERC1363InvalidReceiver, moving nothing", async function () {
      const { token, alice, bob } = await loadFixture(tokenFixture);
      await expect(token.connect(alice)["transferAndCall(address,uint256)"](bob.address, 1n))
        .to.be.revertedWithCustomError(token, "ERC1363InvalidReceiver")
        .withArgs(bob.address);
      await expect(token.connect(alice)["transferAndCall(address,uint256,bytes)"](bob.address, 1n, "0x"))
        .to.be.revertedWithCustomError(token, "ERC1363InvalidReceiver")
        .withArgs(bob.address);
      expect(await token.balanceOf(bob.address)).to.equal(0n);
    });

    it("refuses transferFromAndCall to an EOA with ERC1363InvalidReceiver", async function () {
      const { token, alice, bob, carol } = await loadFixture(tokenFixture);
      await token.connect(alice).approve(bob.address, 10n);
      await expect(token.connect(bob)["transferFromAndCall(address,address,uint256)"](alice.address, carol.address, 1n))
        .to.be.revertedWithCustomError(token, "ERC1363InvalidReceiver")
        .withArgs(carol.address);
      expect(await token.allowance(alice.address, bob.address)).to.equal(10n);
    });

    it("refuses approveAndCall to an EOA with ERC1363InvalidSpender", async function () {
      const { token, alice, bob } = await loadFixture(tokenFixture);
      await expect(token.connect(alice)["approveAndCall(address,uint256)"](bob.address, 1n))
        .to.be.revertedWithCustomError(token, "ERC1363InvalidSpender")
        .withArgs(bob.address);
      expect(await token.allowance(alice.address, bob.address)).to.equal(0n);
    });

    it("refuses a receiver that answers the wrong selector with ERC1363InvalidReceiver, moving nothing", async function () {
      const { token, receiver, alice, bob } = await loadFixture(tokenFixture);
      const to = await receiver.getAddress();
      await receiver.setRefuse(true);
      expect(await receiver.refuse()).to.equal(true);
      await expect(token.connect(alice)["transferAndCall(address,uint256,bytes)"](to, 1n, "0x"))
        .to.be.revertedWithCustomError(token, "ERC1363InvalidReceiver")
        .withArgs(to);
      await token.connect(alice).approve(bob.address, 1n);
      await expect(token.connect(bob)["transferFromAndCall(address,address,uint256)"](alice.address, to, 1n))
        .to.be.revertedWithCustomError(token, "ERC1363InvalidReceiver")
        .withArgs(to);
      expect(await token.balanceOf(to)).to.equal(0n);
    });

    it("refuses a spender that does not implement onApprovalReceived, or answers the wrong selector", async function () {
      const { token, receiver, spender, alice } = await loadFixture(tokenFixture);
      const receiverAddress = await receiver.getAddress();
      await expect(token.connect(alice)["approveAndCall(address,uint256)"](receiverAddress, 1n))
        .to.be.revertedWithCustomError(token, "ERC1363InvalidSpender")
        .withArgs(receiverAddress);
      await spender.setRefuse(true);
      const spenderAddress = await spender.getAddress();
      await expect(token.connect(alice)["approveAndCall(address,uint256,bytes)"](spenderAddress, 1n, "0x"))
        .to.be.revertedWithCustomError(token, "ERC1363InvalidSpender")
        .withArgs(spenderAddress);
      expect(await token.allowance(alice.address, spenderAddress)).to.equal(0n);
    });

    it("refuses transferAndCall to a contract that does not implement the receiver (the token itself)", async function () {
      const { token, alice } = await loadFixture(tokenFixture);
      const to = await token.getAddress();
      await expect(token.connect(alice)["transferAndCall(address,uint256)"](to, 1n))
        .to.be.revertedWithCustomError(token, "ERC1363InvalidReceiver")
        .withArgs(to);
    });
  });

  describe("supportsInterface (ERC-165)", function () {
    const IERC1363 = interfaceId([
      "transferAndCall(address,uint256)",
      "transferAndCall(address,uint256,bytes)",
      "transferFromAndCall(address,address,uint256)",
      "transferFromAndCall(address,address,uint256,bytes)",
      "approveAndCall(address,uint256)",
      "approveAndCall(address,uint256,bytes)",
    ]);
    const IAccessControl = interfaceId([
      "hasRole(bytes32,address)",
      "getRoleAdmin(bytes32)",
      "grantRole(bytes32,address)",
      "revokeRole(bytes32,address)",
      "renounceRole(bytes32,address)",
    ]);
    const IERC165 = interfaceId(["supportsInterface(bytes4)"]);

    it("computes the standard interface ids (ERC-1363 0xb0202a11, AccessControl 0x7965db0b, ERC-165 0x01ffc9a7)", function () {
      expect(IERC1363).to.equal("0xb0202a11");
      expect(IAccessControl).to.equal("0x7965db0b");
      expect(IERC165).to.equal("0x01ffc9a7");
    });

    it("supports IERC1363, IAccessControl and IERC165", async function () {
      const { token } = await loadFixture(tokenFixture);
      expect(await token.supportsInterface(IERC1363)).to.equal(true);
      expect(await token.supportsInterface(IAccessControl)).to.equal(true);
      expect(await token.supportsInterface(IERC165)).to.equal(true);
    });

    it("does not claim 0xffffffff (ERC-165's invalid id) or an unrelated id", async function () {
      const { token } = await loadFixture(tokenFixture);
      expect(await token.supportsInterface("0xffffffff")).to.equal(false);
      expect(await token.supportsInterface("0x12345678")).to.equal(false);
    });
  });

  describe("no admin power over holders", function () {
    it("has exactly the ERC-20 / permit / ERC-1363 / burn / mint / AccessControl functions and nothing else", async function () {
      const { token } = await loadFixture(tokenFixture);
      const functions: string[] = [];
      token.interface.forEachFunction((fragment) => functions.push(fragment.format("sighash")));
      expect(functions.sort()).to.deep.equal(
        [
          "DEFAULT_ADMIN_ROLE()",
          "DOMAIN_SEPARATOR()",
          "MINTER_ROLE()",
          "allowance(address,address)",
          "approve(address,uint256)",
          "approveAndCall(address,uint256)",
          "approveAndCall(address,uint256,bytes)",
          "balanceOf(address)",
          "burn(uint256)",
          "burnFrom(address,uint256)",
          "cap()",
          "decimals()",
          "eip712Domain()",
          "getRoleAdmin(bytes32)",
          "grantRole(bytes32,address)",
          "hasRole(bytes32,address)",
          "mint(address,uint256)",
          "name()",
          "nonces(address)",
          "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
          "renounceRole(bytes32,address)",
          "revokeRole(bytes32,address)",
          "supportsInterface(bytes4)",
          "symbol()",
          "totalSupply()",
          "transfer(address,uint256)",
          "transferAndCall(address,uint256)",
          "transferAndCall(address,uint256,bytes)",
          "transferFrom(address,address,uint256)",
          "transferFromAndCall(address,address,uint256)",
          "transferFromAndCall(address,address,uint256,bytes)",
        ].sort(),
      );
    });

    it("has no function to rename, pause, freeze, blacklist, seize, force-transfer, change the cap or upgrade", async function () {
      const { token } = await loadFixture(tokenFixture);
      const forbidden = /name|symbol|pause|freeze|blacklist|block|seize|force|confiscate|admintransfer|setcap|upgrade|recover/i;
      const names: string[] = [];
      token.interface.forEachFunction((fragment) => names.push(fragment.name));
      // name() and symbol() are the ERC-20 getters; anything else matching is a power we refuse to have.
      expect(names.filter((name) => forbidden.test(name) && name !== "name" && name !== "symbol")).to.deep.equal([]);
      // and the bytecode has no selector of the usual admin functions
      const code = await ethers.provider.getCode(await token.getAddress());
      for (const signature of [
        "pause()",
        "unpause()",
        "setName(string)",
        "setSymbol(string)",
        "setCap(uint256)",
        "upgradeTo(address)",
        "upgradeToAndCall(address,bytes)",
      ]) {
        expect(code.includes(ethers.id(signature).slice(2, 10)), signature).to.equal(false);
      }
    });

    it("gives the admin no way to move a holder's tokens without an allowance", async function () {
      const { token, admin, alice } = await loadFixture(tokenFixture);
      await expect(token.connect(admin).transferFrom(alice.address, admin.address, 1n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(admin.address, 0n, 1n);
      await expect(token.connect(admin).burnFrom(alice.address, 1n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(admin.address, 0n, 1n);
    });
  });

  describe("gas", function () {
    // Instrumented bytecode (solidity-coverage) changes the figures; the comparison runs uninstrumented.
    before(function () {
      if ((hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING) this.skip();
    });

    it("costs within 1 % of a plain OpenZeppelin ERC-20 for a transfer to an existing holder", async function () {
      const [holder, recipient] = await ethers.getSigners();
      const { token } = await deployFoundation(holder);
      await token.mint(holder.address, 1_000n * UNIT);
      const plain = (await ethers.deployContract("PlainERC20", [holder.address, 1_000n * UNIT])) as unknown as PlainERC20;
      // Make the recipient an existing holder of both, so both transfers write non-zero to non-zero.
      await token.transfer(recipient.address, UNIT);
      await plain.transfer(recipient.address, UNIT);
      const dataGas = await gasOf(token.transfer(recipient.address, UNIT));
      const plainGas = await gasOf(plain.transfer(recipient.address, UNIT));
      const difference = dataGas > plainGas ? dataGas - plainGas : plainGas - dataGas;
      console.log(`      transfer to an existing holder: DATAToken ${dataGas} gas, PlainERC20 ${plainGas} gas (+${difference})`);
      expect(difference * 100n <= plainGas, `DATAToken ${dataGas} vs PlainERC20 ${plainGas}`).to.equal(true);
    });
  });
});
