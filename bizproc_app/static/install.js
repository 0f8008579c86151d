// Finish the installation through Bitrix24's JS SDK: placements appear only after this.
(async () => {
  const status = document.getElementById("status");
  try {
    const b24 = await B24Js.initializeB24Frame();
    if (b24.isInstallMode) {
      await b24.installFinish();
      status.textContent = "Installed. You can close this window.";
    } else {
      status.textContent = "Already installed: registrations checked and repaired.";
    }
    status.className = "ok";
    status.dataset.state = "installed";
  } catch (err) {
    status.textContent = "The portal did not accept the end of the installation: " + (err && err.message || err);
    status.className = "bad";
    status.dataset.state = "failed";
  }
})();
